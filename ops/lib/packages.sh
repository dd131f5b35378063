# Debian packages llmoin needs, and a function that installs the missing
# ones. Sourced by ops/quickstart and ops/test.

LLMOIN_PACKAGES=(
    build-essential cmake pkg-config clang libclang-rt-14-dev
    nginx nginx-dev libjwt-dev libjansson-dev libhiredis-dev libpq-dev
    libssl-dev libmicrohttpd-dev libcmocka-dev libcurl4-openssl-dev
    postgresql redis-server wrk curl
    python3-pytest python3-requests python3-jwt python3-cryptography
    python3-psycopg2 python3-redis
    # the web page's PDF reader (pdf.js, served from /usr/share/javascript/pdf)
    libjs-pdf
    # the web page's browser test (tests/web, headless; npm packages via npm ci)
    chromium
)

llmoin_missing_packages() {
    local package
    for package in "${LLMOIN_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep 'install ok installed' >/dev/null; then
            printf '%s\n' "$package"
        fi
    done
}

llmoin_install_packages() {
    local missing sudo=""
    mapfile -t missing < <(llmoin_missing_packages)
    if [ "${#missing[@]}" -eq 0 ]; then
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null; then
            sudo="sudo"
        else
            echo "llmoin: these Debian packages are missing: ${missing[*]}" >&2
            echo "llmoin: install them as root: apt-get install ${missing[*]}" >&2
            return 1
        fi
    fi
    echo "llmoin: installing ${missing[*]}"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    # nginx's package starts a system nginx on port 80 where it can; we use
    # our own instances only, so keep the package from starting services.
    $sudo env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq \
        --no-install-recommends "${missing[@]}"
}

llmoin_build() {
    local source=$1 build=$2
    shift 2
    cmake -S "$source" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$build.cmake.log" 2>&1 \
        || { cat "$build.cmake.log" >&2; return 1; }
    cmake --build "$build" -j"$(nproc)"
}
