# One image for every service, built in two stages. The first installs the whole workspace and
# builds: the web app into packages/web/dist, then `pnpm run build` (scripts/build-services.ts)
# bundles each service, its worker threads, the migrations and the operator commands, and lays
# out what production needs in /app/dist/production: the bundles, the files they read, and a
# node_modules of only the packages kept out of the bundles (sharp, BullMQ, ...), copied from the
# locked install. The second stage is that folder on a slim Node, run by an unprivileged user.
# Each service is started by its own command (docker-compose.yml): `node <package>/dist/main.js`.
FROM node:20-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json tsconfig.json ./
COPY packages/cli/package.json packages/cli/
COPY packages/client/package.json packages/client/
COPY packages/contracts/package.json packages/contracts/
COPY packages/platform/package.json packages/platform/
COPY packages/web/package.json packages/web/
COPY services/gateway/package.json services/gateway/
COPY services/processor/package.json services/processor/
COPY services/billing/package.json services/billing/
COPY tools/dashscope-sim/package.json tools/dashscope-sim/
COPY tools/mail-catcher/package.json tools/mail-catcher/
COPY tools/supabase-sim/package.json tools/supabase-sim/
RUN pnpm install --frozen-lockfile
COPY packages packages
# The seller's web app, built once into packages/web/dist; the gateway serves it as static files.
RUN pnpm --filter @masterpost/web build
COPY services services
COPY tools tools
COPY db db
COPY scripts scripts
RUN pnpm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
# Owned by root and read-only to the service user; compose and Kubernetes also mount the root
# filesystem read-only, with writable volumes for /tmp and the storage folder only.
COPY --from=build /app/dist/production /app
RUN mkdir -p /data/storage && chown node:node /data/storage
USER node
# The operator commands run in a service container too:
# node scripts/dist/provider-check.js, node scripts/dist/operator.js, node scripts/dist/reconcile.js.
CMD ["node", "services/gateway/dist/main.js"]
