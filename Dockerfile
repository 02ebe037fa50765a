# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript with dev dependencies, then ship only
# the compiled output and production dependencies on a non-root user.

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json ./
COPY src ./src
COPY plugins ./plugins
RUN npx tsc -p tsconfig.json

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    GATEWAY_LISTEN=0.0.0.0:8443 \
    GATEWAY_DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The only writable place the gateway needs (generated certificate and secret);
# everything else works on a read-only root filesystem.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 8443
# /healthz answers over HTTPS with the gateway's own (possibly self-signed)
# certificate, so the probe skips verification: it checks liveness, not identity.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD node -e "const tls=process.env.GATEWAY_TLS!=='off';const m=require(tls?'https':'http');const p=(process.env.GATEWAY_LISTEN||'0.0.0.0:8443').split(':').pop();m.get({host:'127.0.0.1',port:p,path:'/healthz',rejectUnauthorized:false},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1))"
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["start"]
