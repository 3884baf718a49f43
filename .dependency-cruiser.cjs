/** Boundaries a large team relies on: services meet only through gen/ (@shop/contracts) and services/platform. */
module.exports = {
  forbidden: [
    {
      name: "service-imports-other-service",
      comment: "A service never imports another service's code; share through the contract or services/platform.",
      severity: "error",
      from: { path: "^services/([^/]+)/" },
      to: { path: "^services/", pathNot: ["^services/$1/", "^services/platform/"] },
    },
    {
      name: "platform-imports-service",
      comment: "The platform serves every service and knows none of them.",
      severity: "error",
      from: { path: "^services/platform/" },
      to: { path: "^services/", pathNot: "^services/platform/" },
    },
    {
      name: "client-imports-services",
      comment: "sdk/ and cli/ are clients: they talk to services over the contract, never by importing them.",
      severity: "error",
      from: { path: "^(sdk|cli)/" },
      to: { path: "^services/" },
    },
    {
      name: "relative-import-of-gen",
      comment: "Generated code is imported as @shop/contracts/..., never by relative path into gen/.",
      severity: "error",
      from: { pathNot: "^gen/" },
      to: { path: "^gen/", dependencyTypesNot: ["aliased-workspace"] },
    },
    {
      name: "no-circular",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)node_modules/|^test/support/opensearch/target/" },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "default", "node"],
      extensions: [".ts", ".js", ".d.ts"],
    },
    tsConfig: { fileName: "tsconfig.json" },
  },
};
