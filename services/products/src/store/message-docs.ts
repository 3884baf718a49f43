import { fromJson, type JsonObject, toJson } from "@bufbuild/protobuf";
import {
  type Collection,
  CollectionSchema,
  type Product,
  ProductSchema,
} from "@shop/contracts/shop/products/v1/product_pb.js";

/** Messages live in jsonb as their canonical protobuf JSON, so a row reads back as exactly what the API returned. */
export function productToDoc(product: Product): string {
  return JSON.stringify(toJson(ProductSchema, product));
}

export function productFromDoc(doc: JsonObject): Product {
  return fromJson(ProductSchema, doc);
}

export function collectionToDoc(collection: Collection): string {
  return JSON.stringify(toJson(CollectionSchema, collection));
}

export function collectionFromDoc(doc: JsonObject): Collection {
  return fromJson(CollectionSchema, doc);
}
