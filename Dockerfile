# syntax=docker/dockerfile:1
# The Tether agent image: bin/, the JavaScript compiled from src/ (npm run build: less memory
# and a faster start than stripping types at load) and the production dependencies.
#   docker build -t registry.example.com/tether:0.1.0 .
ARG NODE_IMAGE=node:24-slim

# Production dependencies only (no devDependencies, no install scripts), from the lockfile.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

# dist/ compiled from src/ with the project's TypeScript (devDependencies stay in this stage).
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tools/build.ts tools/source-stamp.js ./tools/
COPY src ./src
RUN node tools/build.ts

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
# Owned by root and not writable by the runtime user; the chart also mounts the root
# filesystem read-only and gives the agent emptyDirs (or a volume) for what it writes.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY tools/source-stamp.js ./tools/
# Without src/ next to it, bin/tether.js runs dist/ as built.
COPY --from=build /app/dist ./dist
# The `node` user of the official image (uid/gid 1000), numeric so runAsNonRoot can check it.
USER 1000:1000
EXPOSE 9090
ENTRYPOINT ["node", "bin/tether.js"]
CMD ["agent", "--config", "/etc/tether/tether.yaml"]
