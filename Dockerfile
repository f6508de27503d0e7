# syntax=docker/dockerfile:1
# Claude Monitoring Bridge: `docker compose up` runs it with Prometheus, Alertmanager and Grafana.
ARG NODE_IMAGE=node:20.18.1-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# npm install when npm ci refuses the lockfile: it lacks the non-linux-x64 entries of ccusage's
# per-platform optional packages (the registry it was made with had only that build).
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    CLAUDE_BRIDGE_HOST=0.0.0.0 \
    CLAUDE_BRIDGE_PORT=8080 \
    CLAUDE_BRIDGE_CONFIG=/etc/claude-bridge/config.yaml \
    CLAUDE_BRIDGE_STATE_DIR=/var/lib/claude-bridge/state
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
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
