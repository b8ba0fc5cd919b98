#!/bin/sh
# Starts redis-server with the broker's users (users.acl, beside this script), each role's password
# taken from the environment and written only as its SHA-256, in a file no other user can read.
# The arguments are redis-server's own (persistence, memory).
set -eu

: "${REDIS_PASSWORD:?the workers' password (user worker)}"
: "${REDIS_PRODUCER_PASSWORD:?the upstream producers' password (user producer)}"
: "${REDIS_FLOWER_PASSWORD:?Flower's password (user flower)}"
: "${REDIS_CONTROL_PASSWORD:?the operators' password for remote control (user control)}"
: "${REDIS_PLATFORM_PASSWORD:?the platform's password for the actions stream (user platform)}"

# The database of the broker's URLs (redis://…/N); the rules name its broadcast channels.
db=${REDIS_BROKER_DB:-0}
case $db in
    '' | *[!0-9]*) echo "REDIS_BROKER_DB must be a database number, not '$db'" >&2; exit 2 ;;
esac

sha256() { printf %s "$1" | sha256sum | cut -d ' ' -f 1; }

umask 077
acl=$(mktemp)
sed -e '/^#/d' -e '/^[[:space:]]*$/d' \
    -e "s/{{worker}}/$(sha256 "$REDIS_PASSWORD")/" \
    -e "s/{{producer}}/$(sha256 "$REDIS_PRODUCER_PASSWORD")/" \
    -e "s/{{flower}}/$(sha256 "$REDIS_FLOWER_PASSWORD")/" \
    -e "s/{{control}}/$(sha256 "$REDIS_CONTROL_PASSWORD")/" \
    -e "s/{{platform}}/$(sha256 "$REDIS_PLATFORM_PASSWORD")/" \
    -e "s/{{db}}/$db/g" \
    "$(dirname "$0")/users.acl" > "$acl"
exec redis-server --aclfile "$acl" "$@"
