#!/usr/bin/env bash
# Builds reel's CRC-32C Node-API module (crc32c.c) for this machine's platform and architecture
# into native/prebuilt/<platform>-<arch>/reel_crc32c.node, the file src/record/crc32c.ts loads (or
# into the directory given as its one argument).
# Needs a C compiler (cc) and Node's headers (node_api.h, from the Node installation that runs this
# script). Users never run it: the built file ships in the npm package.
set -euo pipefail
cd "$(dirname "$0")"
platform="$(node -p 'process.platform + "-" + process.arch')"
include="$(node -p 'require("path").join(process.execPath, "..", "..", "include", "node")')"
[ -f "$include/node_api.h" ] || include=/usr/include/node
out="${1:-../prebuilt/$platform}"
mkdir -p "$out"
flags=(-O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror -std=c11 -I "$include")
case "$platform" in
  darwin-*) flags+=(-undefined dynamic_lookup) ;;
esac
"${CC:-cc}" "${flags[@]}" -o "$out/reel_crc32c.node" crc32c.c
echo "built $out/reel_crc32c.node"
