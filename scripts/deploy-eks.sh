#!/bin/sh
# deploy-eks.sh: the pipeline guide's EKS helper, kept for its documented commands, e.g.
#
#   ./scripts/deploy-eks.sh deploy staging
#   ./scripts/deploy-eks.sh deploy production --image-tag v1.2.3
#   ./scripts/deploy-eks.sh rollback production
#   ./scripts/deploy-eks.sh status staging
#   ./scripts/deploy-eks.sh logs production
#   ./scripts/deploy-eks.sh logs staging pod-name-123
#   ./scripts/deploy-eks.sh migrate staging
#   ./scripts/deploy-eks.sh scale staging 3
#
# It now runs the planner-deploy CLI (packages/cli), which needs neither the aws CLI, kubectl nor jq: the same
# AWS_REGION, ECR_REPOSITORY and EKS_CLUSTER_NAME variables apply. One difference: without --image-tag,
# deploy uses <env>-latest (what the build-push action tags), not "latest". See packages/cli/README.md.
set -eu
root=$(cd -- "$(dirname -- "$0")/.." && pwd -P)
required=24

# The repository's Node (the node-<os>-<arch> package pnpm installs, linked as node_modules/.bin/node) when
# there is one that runs on this machine, else the node on PATH.
node=
for candidate in "$root/node_modules/.bin/node" "$root"/node_modules/node-*-*/bin/node; do
  if [ -x "$candidate" ] && "$candidate" -e 0 >/dev/null 2>&1; then
    node=$candidate
    break
  fi
done
if [ -z "$node" ]; then
  node=$(command -v node || true)
  if [ -z "$node" ]; then
    echo "deploy-eks.sh: no Node.js found: run pnpm install in $root, or install Node.js $required or newer and put it on PATH." >&2
    exit 2
  fi
fi
version=$("$node" -p 'process.versions.node' 2>/dev/null || echo unknown)
major=${version%%.*}
case $major in
  '' | *[!0-9]*) major=0 ;;
esac
if [ "$major" -lt "$required" ]; then
  echo "deploy-eks.sh: $node is Node.js $version; planner-deploy needs Node.js $required or newer. Install Node.js $required (https://nodejs.org, or nvm install $required) and put it first on PATH, or run pnpm install in $root." >&2
  exit 2
fi
if [ ! -f "$root/scripts/ts-register.mjs" ] || [ ! -d "$root/node_modules" ]; then
  echo "deploy-eks.sh: $root has no node_modules; run pnpm install there first (or install the packed CLI: see packages/cli/README.md)." >&2
  exit 2
fi
exec "$node" --import "$root/scripts/ts-register.mjs" --experimental-transform-types --no-warnings \
  "$root/packages/cli/src/main.ts" "$@"
