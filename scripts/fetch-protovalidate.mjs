#!/usr/bin/env node
// buf cannot reach the Buf Schema Registry here, so buf/validate/validate.proto is rebuilt from the descriptor that
// @bufbuild/protovalidate embeds. Only the shape is printed (messages, enums, oneofs, extensions); options are dropped
// because buf needs the types to resolve our rules, not the rules of the rules. The output is git-ignored.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { isFieldSet } from "@bufbuild/protobuf";
import { FieldDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { file_buf_validate_validate as validateFile } from "@bufbuild/protovalidate/gen/buf/validate/validate_pb.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, ".buf-deps", "buf", "validate", "validate.proto");

const scalarNames = {
  1: "double",
  2: "float",
  3: "int64",
  4: "uint64",
  5: "int32",
  6: "fixed64",
  7: "fixed32",
  8: "bool",
  9: "string",
  12: "bytes",
  13: "uint32",
  15: "sfixed32",
  16: "sfixed64",
  17: "sint32",
  18: "sint64",
};
const labelNames = { 1: "optional", 2: "required", 3: "repeated" };

function typeOf(field) {
  return field.typeName ? field.typeName : scalarNames[field.type];
}

function printField(field, indent, inOneof) {
  const label = inOneof ? "" : `${labelNames[field.label]} `;
  return `${indent}${label}${typeOf(field)} ${field.name} = ${field.number};`;
}

function printEnum(en, indent) {
  const values = en.value.map((v) => `${indent}  ${v.name} = ${v.number};`);
  return [`${indent}enum ${en.name} {`, ...values, `${indent}}`].join("\n");
}

function printExtensions(extensions, indent) {
  const byExtendee = new Map();
  for (const e of extensions) byExtendee.set(e.extendee, [...(byExtendee.get(e.extendee) ?? []), e]);
  return [...byExtendee].map(([extendee, fields]) =>
    [`${indent}extend ${extendee} {`, ...fields.map((f) => printField(f, `${indent}  `, false)), `${indent}}`].join(
      "\n",
    ),
  );
}

function printMessage(msg, indent) {
  const inner = `${indent}  `;
  const lines = [`${indent}message ${msg.name} {`];
  for (const en of msg.enumType) lines.push(printEnum(en, inner));
  for (const nested of msg.nestedType) lines.push(printMessage(nested, inner));
  const oneofMembers = msg.oneofDecl.map(() => []);
  for (const field of msg.field) {
    if (isFieldSet(field, FieldDescriptorProtoSchema.field.oneofIndex)) oneofMembers[field.oneofIndex].push(field);
    else lines.push(printField(field, inner, false));
  }
  msg.oneofDecl.forEach((oneof, i) => {
    lines.push(
      `${inner}oneof ${oneof.name} {`,
      ...oneofMembers[i].map((f) => printField(f, `${inner}  `, true)),
      `${inner}}`,
    );
  });
  for (const range of msg.extensionRange) lines.push(`${inner}extensions ${range.start} to ${range.end - 1};`);
  for (const range of msg.reservedRange) lines.push(`${inner}reserved ${range.start} to ${range.end - 1};`);
  if (msg.reservedName.length) lines.push(`${inner}reserved ${msg.reservedName.map((n) => `"${n}"`).join(", ")};`);
  lines.push(...printExtensions(msg.extension, inner));
  lines.push(`${indent}}`);
  return lines.join("\n");
}

const file = validateFile.proto;
const source = [
  `// Rebuilt from @bufbuild/protovalidate's embedded descriptor by scripts/fetch-protovalidate.mjs. Do not edit.`,
  `syntax = "proto2";`,
  `package ${file.package};`,
  ...file.dependency.map((d) => `import "${d}";`),
  ...file.enumType.map((en) => printEnum(en, "")),
  ...file.messageType.map((msg) => printMessage(msg, "")),
  ...printExtensions(file.extension, ""),
  "",
].join("\n");

mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, source);
