# syntax=docker/dockerfile:1
# Claude Monitoring Bridge: `docker compose up` runs it with Prometheus, Alertmanager and Grafana.
# Node.js 24, the active LTS line (20 reached its end of life in April 2026).
ARG NODE_IMAGE=node:24.17.0-trixie-slim

# npm install when npm ci refuses the lockfile: it lacks the non-linux-x64 entries of ccusage's
# per-platform optional packages (the registry it was made with had only that build).
# Production dependencies get a stage of their own: pruning the build stage's node_modules instead
# renames every directory of a lower layer, which overlayfs copies whole (about a minute).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# npm unpacks ccusage's native binary without its executable bit, and ccusage's wrapper cannot add
# it at run time for the non-root user the image runs as (the files belong to root): set it here.
RUN { npm ci --omit=dev --no-audit --no-fund 2>/tmp/npm-ci.log \
      || { echo "npm ci refused the lockfile ($(grep -m1 'Missing:' /tmp/npm-ci.log || tail -n1 /tmp/npm-ci.log)); npm install"; \
           npm install --omit=dev --no-audit --no-fund; }; } \
    && find node_modules/@ccusage -path '*/bin/ccusage*' -type f -exec chmod 0755 {} +

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Compiling needs TypeScript, the type packages and esbuild (it bundles the bin), not the test
# tooling (jest, testcontainers: some 400 packages): this stage's package.json keeps only those
# devDependencies, and npm installs them (and the production dependencies) at the lockfile's versions.
RUN node -e "const fs = require('fs'); const p = require('./package.json'); \
      const forBuild = (name) => name === 'typescript' || name === 'esbuild' || (name.startsWith('@types/') && name !== '@types/jest'); \
      p.devDependencies = Object.fromEntries(Object.entries(p.devDependencies).filter(([name]) => forBuild(name))); \
      fs.writeFileSync('package.json', JSON.stringify(p, null, 2));" \
    && npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/bundle-cli.mjs ./scripts/
COPY src ./src
# build:js, not build: the slim image has no C compiler for the optional native line scanner
# (scripts/build-native.mjs), so the bridge in the image reads transcripts in JavaScript.
RUN npm run build:js

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    CLAUDE_BRIDGE_HOST=0.0.0.0 \
    CLAUDE_BRIDGE_PORT=8080 \
    CLAUDE_BRIDGE_CONFIG=/etc/claude-bridge/config.yaml \
    CLAUDE_BRIDGE_STATE_DIR=/var/lib/claude-bridge/state
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config.yaml /etc/claude-bridge/config.yaml
# World-writable so the state survives under any --user (e.g. the host user's uid, to read ~/.claude).
RUN mkdir -p /var/lib/claude-bridge/state /home/node/.claude \
    && chown -R node:node /var/lib/claude-bridge /home/node/.claude \
    && chmod 0777 /var/lib/claude-bridge/state
USER node
EXPOSE 8080
VOLUME ["/var/lib/claude-bridge"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.CLAUDE_BRIDGE_PORT || 8080) + '/health').then((r) => process.exit(r.status < 500 ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
