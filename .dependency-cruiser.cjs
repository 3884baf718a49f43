/** Boundaries a large team relies on: services meet only through gen/ (@shop/contracts) and services/platform. */
module.exports = {
  forbidden: [
    {
      name: "service-imports-other-service",
      comment: "A service never imports another service's code; share through the contract or services/platform.",
      severity: "error",
      from: { path: "^services/([^/]+)/", pathNot: "^services/orders/test/" },
      to: { path: "^services/", pathNot: ["^services/$1/", "^services/platform/"] },
    },
    {
      name: "orders-tests-import-only-test-doubles",
      comment:
        "The orders suites start the real inventory and the Stripe emulator (a test double) in-process, through their index.ts only.",
      severity: "error",
      from: { path: "^services/orders/test/" },
      to: {
        path: "^services/",
        pathNot: ["^services/orders/", "^services/platform/", "^services/(inventory|stripe-emulator)/src/index\\.ts$"],
      },
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
      name: "platform-imports-sdk",
      comment:
        "The platform is server code and the SDK a client: what both need of the event wire is in @shop/event-wire.",
      severity: "error",
      from: { path: "^services/platform/" },
      to: { path: "^sdk/" },
    },
    {
      name: "event-wire-imports-runtime",
      comment: "@shop/event-wire holds the conventions the platform and the SDK share, so it depends on neither.",
      severity: "error",
      from: { path: "^event-wire/" },
      to: { path: "^(services|sdk|cli)/" },
    },
    {
      name: "internal-entry-outside-bench-and-tests",
      comment:
        "A package's internal entry (@shop/<name>/internal) is for bench/, test/ and the package itself; other code uses its index.ts.",
      severity: "error",
      from: { path: "^(?!bench/|test/)(services/[^/]+|[^/]+)/" },
      to: { path: "^(services/[^/]+|[^/]+)/src/internal\\.ts$", pathNot: "^$1/" },
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
