# One image for every Shop service; SHOP_SERVICE picks which one a container runs.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY gen/package.json gen/
COPY event-wire/ event-wire/
COPY services/ services/
COPY sdk/ sdk/
COPY cli/ cli/
COPY bench/package.json bench/
COPY test/package.json test/
COPY examples/storefront/package.json examples/storefront/
RUN npm ci --omit=dev --no-audit --no-fund || npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
CMD ["sh", "-c", "exec node --import tsx services/${SHOP_SERVICE}/src/main.ts"]
