# One image for every Shop service; SHOP_SERVICE (products, inventory, search, orders, gateway, stripe-emulator)
# picks which one a container runs. docker-compose.yml builds it once per service from this file.
FROM node:20-bookworm-slim
WORKDIR /app
# The workspaces' manifests first, so the dependency layer is rebuilt only when one of them changes.
COPY package.json package-lock.json ./
COPY gen/package.json gen/
COPY event-wire/ event-wire/
COPY services/ services/
COPY sdk/ sdk/
COPY cli/ cli/
COPY bench/package.json bench/
COPY test/package.json test/
COPY examples/storefront/package.json examples/storefront/
# With the dev dependencies: the services run from their TypeScript sources through tsx, a root dev dependency.
RUN npm ci --no-audit --no-fund
COPY . .
# Writable places for the volumes compose mounts (order emails), owned by the user the services run as.
RUN mkdir -p /data/mail-outbox && chown -R node:node /data
USER node
ENV NODE_ENV=production
CMD ["sh", "-c", "exec node --import tsx services/${SHOP_SERVICE:?set SHOP_SERVICE to the service this container runs}/src/main.ts"]
