-- Who sells a product: the API key id of the seller who created it, '' when an operator did. The doc carries it too
-- (Product.seller_id, so it travels in the product events); the column lets a seller's products be found by index.
-- Products created before this migration have no seller.
alter table products add column seller_id text not null default '';
update products set seller_id = coalesce(doc ->> 'sellerId', '');
create index products_seller on products (seller_id) where seller_id <> '';
