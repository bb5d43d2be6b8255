# Sourced by scripts/run and scripts/test: makes sure Debian packages are installed.
# We run as root on our machines; as another user we say which packages are missing and stop.

ensure_packages() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: not running as root, so the missing Debian packages cannot be installed: ${missing[*]}" >&2
    echo "       install them with: sudo apt-get install -y ${missing[*]}   (or run this script as root)" >&2
    exit 1
  fi
  echo "installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || true
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}
