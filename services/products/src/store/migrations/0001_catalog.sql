-- The catalog: products, their SKUs, collections and the seller's stock levels. Products and collections keep their
-- whole protobuf JSON in `doc` (what the API returns); the other columns exist to query and lock by.

create table products (
  id text primary key,
  seq bigint generated always as identity unique,
  status text not null,
  revision bigint not null,
  doc jsonb not null,
  create_time timestamptz not null,
  update_time timestamptz not null
);
create index products_status_seq on products (status, seq);

-- One row per SKU makes SKUs unique across the catalog. Deferred so a batch can claim its SKUs before its products.
create table product_skus (
  sku text primary key,
  product_id text not null references products (id) deferrable initially deferred
);
create index product_skus_product on product_skus (product_id);

create table collections (
  id text primary key,
  seq bigint generated always as identity unique,
  handle text not null unique,
  archived boolean not null,
  revision bigint not null,
  doc jsonb not null,
  create_time timestamptz not null,
  update_time timestamptz not null
);

create table collection_products (
  collection_id text not null references collections (id),
  product_id text not null references products (id) deferrable initially deferred,
  primary key (collection_id, product_id)
);
create index collection_products_product on collection_products (product_id);

-- The seller's stock level per SKU; version is the StockLevelSet aggregate version.
create table stock_levels (
  sku text primary key,
  product_id text not null,
  quantity bigint not null,
  version bigint not null,
  update_time timestamptz not null
);

-- Only the SHA-256 of a key is stored; the key itself is shown once, at creation.
create table api_keys (
  id text primary key,
  display_name text not null,
  role integer not null,
  secret_sha256 text not null,
  create_time timestamptz not null,
  create_actor text not null,
  revoke_time timestamptz
);

-- Request ids already answered, per caller, so a retried create (or a re-run import) returns what it made.
create table idempotency_keys (
  actor text not null,
  operation text not null,
  request_id text not null,
  resource_id text not null,
  create_time timestamptz not null default now(),
  primary key (actor, operation, request_id)
);

-- Events written in the same transaction as the change they describe; the relay publishes them in id order.
create table outbox (
  id bigint generated always as identity primary key,
  event_id text not null,
  aggregate_id text not null,
  aggregate_version bigint not null,
  subject text not null,
  type_name text not null,
  data bytea not null,
  create_time timestamptz not null default now(),
  publish_time timestamptz
);
create index outbox_unpublished on outbox (id) where publish_time is null;
create index outbox_published on outbox (publish_time) where publish_time is not null;

-- Wakes the relay right after a commit; the channel is per schema so test schemas on one database stay apart.
create function outbox_notify() returns trigger language plpgsql as $$
begin
  perform pg_notify('outbox_' || tg_table_schema, '');
  return null;
end
$$;
create trigger outbox_notify after insert on outbox for each statement execute function outbox_notify();
