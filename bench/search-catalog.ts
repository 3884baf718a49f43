// A generated catalog for the search benchmark: realistic product titles and descriptions, 20 collections, tags,
// attributes, a wide price spread and stock, all from a seeded generator so every run indexes the same products.
import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type StockChanged, StockChangedSchema } from "@shop/contracts/shop/inventory/v1/events_pb.js";
import {
  type CollectionChanged,
  CollectionChangedSchema,
  type ProductCreated,
  ProductCreatedSchema,
} from "@shop/contracts/shop/products/v1/events_pb.js";
import { ProductStatus } from "@shop/contracts/shop/products/v1/product_pb.js";
import { SearchProductsRequestSchema, SortOrder } from "@shop/contracts/shop/search/v1/search_service_pb.js";
import { newEventMeta } from "@shop/platform";

/** mulberry32: a tiny seeded generator, so the catalog and the query mix are the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const collections: Array<{ handle: string; nouns: string[]; base: number }> = [
  {
    handle: "kitchen",
    nouns: ["Mug", "Teapot", "Kettle", "Bowl", "Plate", "Saucepan", "Cutting Board", "Colander"],
    base: 25,
  },
  { handle: "tableware", nouns: ["Dinner Plate", "Wine Glass", "Tumbler", "Serving Bowl", "Cake Stand"], base: 20 },
  { handle: "living-room", nouns: ["Cushion", "Throw", "Vase", "Floor Lamp", "Side Table", "Mirror"], base: 60 },
  { handle: "bedroom", nouns: ["Duvet Cover", "Pillow", "Blanket", "Bedside Lamp", "Sheet Set"], base: 70 },
  { handle: "bathroom", nouns: ["Bath Towel", "Bath Mat", "Soap Dish", "Shower Curtain", "Robe"], base: 30 },
  { handle: "garden", nouns: ["Planter", "Watering Can", "Garden Hose", "Shovel", "Bird Feeder"], base: 35 },
  { handle: "outdoor", nouns: ["Lounge Chair", "Parasol", "Lantern", "Picnic Blanket", "Hammock"], base: 90 },
  { handle: "office", nouns: ["Notebook", "Desk Organizer", "Pen", "Desk Lamp", "Letter Tray"], base: 20 },
  { handle: "storage", nouns: ["Basket", "Storage Box", "Shelf", "Coat Hook", "Drawer Divider"], base: 30 },
  {
    handle: "lighting",
    nouns: ["Pendant Light", "Table Lamp", "String Lights", "Candle Holder", "Wall Light"],
    base: 55,
  },
  { handle: "womens-apparel", nouns: ["Dress", "Blouse", "Cardigan", "Skirt", "Scarf"], base: 45 },
  { handle: "mens-apparel", nouns: ["Shirt", "Sweater", "Chinos", "Jacket", "Polo"], base: 50 },
  { handle: "kids", nouns: ["Onesie", "Toy Car", "Puzzle", "Backpack", "Rain Boots"], base: 25 },
  { handle: "shoes", nouns: ["Sneakers", "Loafers", "Sandals", "Boots", "Slippers"], base: 80 },
  { handle: "bags", nouns: ["Tote Bag", "Wallet", "Weekender", "Crossbody Bag", "Laptop Sleeve"], base: 60 },
  { handle: "jewelry", nouns: ["Necklace", "Bracelet", "Earrings", "Ring", "Watch"], base: 90 },
  { handle: "beauty", nouns: ["Face Cream", "Lip Balm", "Hand Soap", "Shampoo", "Body Oil"], base: 18 },
  { handle: "pantry", nouns: ["Coffee Beans", "Green Tea", "Olive Oil", "Honey", "Dark Chocolate"], base: 12 },
  { handle: "pets", nouns: ["Dog Bed", "Cat Toy", "Leash", "Food Bowl", "Scratching Post"], base: 30 },
  { handle: "sports", nouns: ["Yoga Mat", "Water Bottle", "Dumbbell", "Jump Rope", "Gym Bag"], base: 35 },
];

const adjectives = [
  "Classic",
  "Modern",
  "Rustic",
  "Vintage",
  "Compact",
  "Deluxe",
  "Handmade",
  "Organic",
  "Portable",
  "Premium",
  "Slim",
  "Soft",
  "Sturdy",
  "Elegant",
  "Minimal",
  "Cozy",
  "Bold",
  "Nordic",
  "Urban",
  "Essential",
];
const colors = [
  "Red",
  "Blue",
  "Green",
  "Black",
  "White",
  "Grey",
  "Navy",
  "Olive",
  "Mustard",
  "Terracotta",
  "Sage",
  "Ivory",
  "Charcoal",
  "Blush",
  "Teal",
  "Sand",
];
const materials = [
  "Ceramic",
  "Cotton",
  "Wool",
  "Linen",
  "Oak",
  "Walnut",
  "Bamboo",
  "Steel",
  "Copper",
  "Glass",
  "Leather",
  "Porcelain",
  "Marble",
  "Stoneware",
  "Cast Iron",
  "Silicone",
  "Recycled",
  "Rattan",
  "Velvet",
  "Canvas",
];
const extraTags = ["gift", "bestseller", "new", "eco", "sale", "handmade", "limited", "fair-trade", "vegan", "set"];
const brands = Array.from({ length: 50 }, (_, i) => `brand-${String(i + 1).padStart(2, "0")}`);
const uses = [
  "everyday use",
  "slow weekend mornings",
  "small apartments",
  "busy families",
  "gifting",
  "the holidays",
  "outdoor dinners",
  "a calm workspace",
  "long trips",
  "cold evenings",
];
const cares = [
  "Wipe clean with a damp cloth.",
  "Machine washable at 30 degrees.",
  "Dishwasher safe.",
  "Hand wash only.",
  "Store in a dry place.",
  "Oil occasionally to keep it looking new.",
];

export interface GeneratedCatalog {
  collections: CollectionChanged[];
  products: ProductCreated[];
  stock: StockChanged[];
  /** Words that occur in titles, for the query mix. */
  nouns: string[];
  collectionIds: string[];
}

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, "-");

/** `count` products (1–3 variants each, one StockChanged per SKU) spread over 20 collections and two years. */
export function generateCatalog(count: number, seed = 42): GeneratedCatalog {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const now = Date.UTC(2025, 10, 1);
  const collectionEvents = collections.map((c, i) =>
    create(CollectionChangedSchema, {
      meta: newEventMeta(`col-${i}`, 1),
      collection: { id: `col-${i}`, handle: c.handle, title: c.handle.replace(/-/g, " "), revision: 1n },
    }),
  );
  const products: ProductCreated[] = [];
  const stock: StockChanged[] = [];
  for (let n = 0; n < count; n++) {
    const collectionIndex = Math.floor(random() * collections.length);
    const collection = collections[collectionIndex] as (typeof collections)[number];
    const noun = pick(collection.nouns);
    const material = pick(materials);
    const color = pick(colors);
    const adjective = random() < 0.6 ? `${pick(adjectives)} ` : "";
    const title = `${adjective}${random() < 0.7 ? `${color} ` : ""}${material} ${noun}${random() < 0.1 ? " Set of 4" : ""}`;
    const description = [
      `Made from ${material.toLowerCase()}, this ${noun.toLowerCase()} is ${pick(adjectives).toLowerCase()} and ${pick(adjectives).toLowerCase()}.`,
      `Designed for ${pick(uses)}, in a ${color.toLowerCase()} finish that works with ${pick(colors).toLowerCase()} and ${pick(colors).toLowerCase()}.`,
      pick(cares),
    ].join(" ");
    // Log-normal-ish spread around the collection's typical price: from a few euros to well over a thousand.
    const price = Math.max(199, Math.round(collection.base * Math.exp((random() - 0.5) * 2.4) * 100) - 1);
    const id = `p${String(n).padStart(6, "0")}`;
    const variantCount = 1 + Math.floor(random() * 3);
    const variants = Array.from({ length: variantCount }, (_, v) => ({
      sku: `${id}-${v}`,
      title: ["S", "M", "L"][v] ?? "",
      price: { currencyCode: "EUR", amountMinor: BigInt(price + v * 500) },
      options: { size: ["S", "M", "L"][v] ?? "one" },
    }));
    const tags = [collection.handle, slug(material), slug(color)];
    if (random() < 0.5) tags.push(pick(extraTags));
    const created = now - Math.floor(random() * 730 * 86_400_000);
    const product: MessageInitShape<typeof ProductCreatedSchema>["product"] = {
      id,
      title,
      description,
      price: { currencyCode: "EUR", amountMinor: BigInt(price) },
      variants,
      tags: [...new Set(tags)],
      attributes: { color: slug(color), material: slug(material), brand: pick(brands) },
      collectionIds: [`col-${collectionIndex}`],
      status: ProductStatus.ACTIVE,
      revision: 1n,
      createTime: timestampFromMs(created),
      updateTime: timestampFromMs(created),
    };
    products.push(create(ProductCreatedSchema, { meta: newEventMeta(id, 1), product }));
    for (const variant of variants) {
      const available = random() < 0.15 ? 0 : Math.floor(random() * 50) + 1;
      stock.push(
        create(StockChangedSchema, {
          meta: newEventMeta(variant.sku, 1),
          level: { sku: variant.sku, onHand: BigInt(available), available: BigInt(available), version: 1n },
        }),
      );
    }
  }
  return {
    collections: collectionEvents,
    products,
    stock,
    nouns: [...new Set(collections.flatMap((c) => c.nouns))],
    collectionIds: collectionEvents.map((c) => c.collection?.id ?? ""),
  };
}

/** A letter swapped with its neighbour: the typo customers make most. */
function typo(word: string, random: () => number): string {
  if (word.length < 5) return word;
  const i = 1 + Math.floor(random() * (word.length - 3));
  return word.slice(0, i) + word[i + 1] + word[i] + word.slice(i + 2);
}

export type SearchInit = MessageInitShape<typeof SearchProductsRequestSchema>;

/**
 * The query mix: free text (exact, two words, typos, prefixes), filters alone and combined (collection, price range,
 * tags, attributes, in stock), every sort, and facets on about half the queries — as a storefront would send them.
 */
export function generateQueries(catalog: GeneratedCatalog, count: number, seed = 7): SearchInit[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const sorts = [SortOrder.UNSPECIFIED, SortOrder.PRICE_ASC, SortOrder.PRICE_DESC, SortOrder.NEWEST, SortOrder.TITLE];
  const queries: SearchInit[] = [];
  for (let i = 0; i < count; i++) {
    const noun = pick(catalog.nouns).toLowerCase();
    const kind = i % 8;
    const query: SearchInit = { pageSize: 20 };
    if (kind === 0) query.query = noun;
    if (kind === 1) query.query = `${pick(colors).toLowerCase()} ${noun}`;
    if (kind === 2) query.query = `${pick(materials).toLowerCase()} ${noun.split(" ")[0]}`;
    if (kind === 3) query.query = typo(noun.split(" ")[0] as string, random);
    if (kind === 4) query.query = (noun.split(" ")[0] as string).slice(0, 3);
    if (kind >= 5) query.query = random() < 0.5 ? "" : noun;
    const filter: NonNullable<SearchInit["filter"]> = {};
    if (kind >= 4 || random() < 0.3) {
      if (random() < 0.5) filter.collectionIds = [pick(catalog.collectionIds)];
      if (random() < 0.4) {
        filter.currencyCode = "EUR";
        filter.minPriceMinor = BigInt(Math.floor(random() * 3000));
        filter.maxPriceMinor = (filter.minPriceMinor ?? 0n) + BigInt(2000 + Math.floor(random() * 10000));
      }
      if (random() < 0.25) filter.tags = [pick(extraTags)];
      if (random() < 0.25) filter.attributes = [{ key: "color", values: [slug(pick(colors)), slug(pick(colors))] }];
      if (random() < 0.4) filter.inStockOnly = true;
    }
    query.filter = filter;
    query.sort = query.query ? (random() < 0.6 ? SortOrder.RELEVANCE : pick(sorts)) : pick(sorts);
    if (random() < 0.5) query.facets = ["tags", "collections", "price", "attributes.color"];
    queries.push(query);
  }
  return queries;
}

export { SearchProductsRequestSchema };
