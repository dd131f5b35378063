#!/bin/bash
# Builds ngx_http_llmoin_module.so against Debian's nginx-dev tree, so that
# Debian's /usr/sbin/nginx loads it (--with-compat and Debian's conf_flags).
# Called by CMake (nginx-module/CMakeLists.txt):
#
#   build.sh configure BUILD_DIR MODULE_DIR COMMON_DIR COMMON_LIB CC_OPT LD_OPT
#   build.sh make BUILD_DIR
#
# nginx's configure writes a Makefile into the source tree, so the tree is
# copied into BUILD_DIR first and /usr/share/nginx/src is never touched.
set -euo pipefail

nginx_tree=/usr/share/nginx/src

configure() {
    local build=$1 module=$2 common_dir=$3 common_lib=$4 cc_opt=$5 ld_opt=$6

    if [ ! -f "$nginx_tree/conf_flags" ]; then
        echo "build.sh: $nginx_tree/conf_flags is missing; install nginx-dev" >&2
        exit 1
    fi
    rm -rf "$build/src" "$build/objs"
    mkdir -p "$build"
    cp -a "$nginx_tree" "$build/src"
    cd "$build/src"
    # shellcheck disable=SC1091
    . ./conf_flags
    LLMOIN_COMMON_DIR=$common_dir LLMOIN_COMMON_LIB=$common_lib \
        ./configure "${NGX_CONF_FLAGS[@]}" \
        --with-cc-opt="-fPIC $cc_opt" --with-ld-opt="-fPIC $ld_opt" \
        --add-dynamic-module="$module" --builddir="$build/objs" >"$build/configure.log" 2>&1 \
        || { tail -30 "$build/configure.log" >&2; exit 1; }
}

build() {
    local build=$1

    # nginx's Makefile does not know the module links libllmoin_common.a:
    # drop the old .so so that a changed library is always linked in.
    rm -f "$build/objs/ngx_http_llmoin_module.so"
    make -s -f "$build/objs/Makefile" -C "$build/src" modules
}

case "${1:-}" in
    configure) shift; configure "$@" ;;
    make) shift; build "$@" ;;
    *) echo "usage: build.sh configure|make ..." >&2; exit 2 ;;
esac
