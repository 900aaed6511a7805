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
node="$root/node_modules/.bin/node"
if [ ! -x "$node" ]; then
  echo "deploy-eks.sh: $node not found; run pnpm install in $root first." >&2
  exit 2
fi
exec "$node" --import "$root/scripts/ts-register.mjs" --experimental-transform-types --no-warnings \
  "$root/packages/cli/src/main.ts" "$@"
