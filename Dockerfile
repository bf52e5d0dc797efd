# One image for every service: the workspace installed once, each service started by its own
# command (see docker-compose.yml): `node --import tsx <entry>`, one process per service, as
# the local stack and the tests start them.
FROM node:20-bookworm-slim
WORKDIR /app
RUN npm install -g pnpm@10
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml tsconfig.base.json tsconfig.json ./
COPY packages/contracts/package.json packages/contracts/
COPY packages/platform/package.json packages/platform/
COPY services/gateway/package.json services/gateway/
COPY services/processor/package.json services/processor/
COPY services/billing/package.json services/billing/
COPY tools/dashscope-sim/package.json tools/dashscope-sim/
COPY tools/supabase-sim/package.json tools/supabase-sim/
RUN pnpm install --frozen-lockfile
COPY packages packages
COPY services services
COPY tools tools
COPY db db
# The operator commands (provider-check, operator, reconcile) run in a service container too.
COPY scripts scripts
ENV NODE_ENV=production
USER node
