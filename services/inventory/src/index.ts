export type { InventoryConfig } from "./config.js";
export { loadInventoryConfig } from "./config.js";
export type { Inventory, InventoryOverrides } from "./inventory.js";
export { createInventory } from "./inventory.js";
