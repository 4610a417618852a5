# vipbot image: `vipbot bot` or `vipbot worker` (docker-compose.yml runs both from this one image).
# Stage 1 installs every dependency and builds the bundle; stage 2 keeps production dependencies only
# and runs as an unprivileged user.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Sources first: `npm ci` runs `prepare`, which builds dist/ from them.
COPY scripts ./scripts
COPY bin ./bin
COPY src ./src
COPY commands ./commands
COPY jobs ./jobs
COPY tsconfig.json ./
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    VIPBOT_CONFIG=/etc/vipbot/vipbot.yaml \
    PORT=3000
RUN groupadd --system vipbot && useradd --system --gid vipbot --home-dir /nonexistent --shell /usr/sbin/nologin vipbot
WORKDIR /app
# The bundle runs while the sources it was built from are unchanged (bin/vipbot.js compares size and
# mtime), so the sources travel with it, copied from the build stage with their timestamps.
COPY --from=build --chown=root:root /app /app
USER vipbot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/vipbot.js"]
CMD ["bot"]
