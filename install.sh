#!/bin/sh
# Installs the loopauth command (docs/install.md says what it does, every option, and how to
# uninstall):
#
#   curl -fsSL https://raw.githubusercontent.com/loopauth/loopauth/v0.1.0/install.sh | sh -s -- --from https://raw.githubusercontent.com/loopauth/loopauth/v0.1.0
#
# It finds Deno (on PATH, in ~/.deno/bin, or installs deno@2.9.6 from npm into a private prefix),
# fetches loopauth's modules once into Deno's cache with a lock file, and writes a small POSIX
# shell script, BIN_DIR/loopauth, that holds Deno's absolute path and works out loopauth's
# least-privilege permission flags each time it runs (so XDG_CONFIG_HOME and XDG_RUNTIME_DIR may
# change later). Running it again replaces the command with the same one.
set -eu

# The whole script is one group, which sh reads to its end before it runs any of it: a download cut
# short runs nothing, and an early exit does not leave curl writing into a closed pipe.
{
DENO_VERSION=2.9.6 # installed from npm when no Deno 2.3 or later is found
# Nothing it makes is writable by others (the Deno it may install, the lock file, the command),
# whatever the umask (0002 is common); a stricter umask stays.
umask "$(printf '%o' $(($(umask) | 022)))"
from=""
bin_dir="${LOOPAUTH_INSTALL_DIR:-}"
explicit_bin_dir=${LOOPAUTH_INSTALL_DIR:+1}
hosts="github.com,api.github.com"
extra="" # the options to give again when installing again (--bin-dir, --host)

say() { printf '%s\n' "$*"; }
die() {
  printf 'Error: %s\n' "$*" >&2
  exit 1
}
usage() {
  cat <<'EOF'
Usage: sh install.sh --from URL [--bin-dir DIR] [--host HOST]...

  --from URL      where loopauth's main.ts is (a release's source: https://, or http:// on 127.0.0.1)
  --bin-dir DIR   where the loopauth command goes (default: $LOOPAUTH_INSTALL_DIR, else ~/.local/bin)
  --host HOST     a GitHub Enterprise Server host it may reach besides github.com (repeatable)
  -h, --help      this help
EOF
}

while [ $# -gt 0 ]; do
  case $1 in
    --from | --bin-dir | --host)
      [ $# -ge 2 ] || die "$1 needs a value: see sh install.sh --help"
      opt=$1 value=$2
      shift 2
      ;;
    --from=* | --bin-dir=* | --host=*)
      opt=${1%%=*} value=${1#*=}
      shift
      ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "Unknown option $1: see sh install.sh --help" ;;
  esac
  case $opt in
    --from) from=${value%/} ;;
    --bin-dir) bin_dir=$value explicit_bin_dir=1 ;;
    --host)
      # A host name and maybe a port: nothing that could widen a permission list or the shell.
      case $value in
        "" | *[!A-Za-z0-9.:-]* | [.:-]*) die "--host takes a host name such as ghe.example.com, not $value" ;;
      esac
      hosts="$hosts,$value"
      extra="$extra --host $value"
      ;;
  esac
done

[ -n "$from" ] || die "Name where loopauth is with --from URL: see docs/install.md"
# Code fetched over plain http could be changed on its way: only a loopback address may be http.
case $from in
  https://?*) ;;
  http://127.0.0.1:* | http://127.0.0.1/* | http://\[::1\]:* | http://\[::1\]/*) ;;
  *) die "--from must be an https:// URL (http:// only on 127.0.0.1 or [::1]), not $from" ;;
esac
case $from in
  *[!A-Za-z0-9._~:/@%+=,\[\]-]*) die "--from has characters a URL of loopauth's source does not: $from" ;;
esac
[ -n "${HOME:-}" ] || die "HOME is not set"
[ -n "$bin_dir" ] || bin_dir="$HOME/.local/bin"
case $bin_dir in /*) ;; *) bin_dir="$(pwd)/$bin_dir" ;; esac
data="${XDG_DATA_HOME:-$HOME/.local/share}/loopauth"
case $data in /*) ;; *) data="$HOME/.local/share/loopauth" ;; esac
for path in "$bin_dir" "$data"; do
  case $path in *[\'\"\\\$\`]*) die "Cannot install into a path with quotes, \\, \$ or \`: $path" ;; esac
  case $path in *[[:cntrl:]]*) die "Cannot install into a path with a control character (a newline, a tab, …)" ;; esac
done
# A word as a shell reads it back: as it is, or in single quotes (a ' inside becomes '\'').
quote() {
  case $1 in
    *[!A-Za-z0-9._:/@%+=,-]*) ;;
    *)
      printf '%s' "$1"
      return
      ;;
  esac
  rest=$1 out=""
  while :; do
    case $rest in
      *\'*)
        out="$out${rest%%\'*}'\\''"
        rest=${rest#*\'}
        ;;
      *) break ;;
    esac
  done
  printf "'%s'" "$out$rest"
}
[ -z "${explicit_bin_dir:-}" ] || extra=" --bin-dir $(quote "$bin_dir")$extra"
# This install again, as a command to paste: the installed command names it in its hints.
reinstall="curl -fsSL $(quote "$from/install.sh") | sh -s -- --from $(quote "$from")$extra"
# The host (and port) Deno may import loopauth's modules from (--allow-import).
origin=${from#*://}
origin=${origin%%/*}

# Whether $1 is a Deno that runs and is 2.3 or later (for --unstable-lazy-dynamic-imports).
deno_ok() {
  [ -x "$1" ] || return 1
  version=$("$1" --version 2>/dev/null) || return 1
  version=${version#deno }
  version=${version%%[!0-9.]*}
  major=${version%%.*}
  minor=${version#*.}
  minor=${minor%%.*}
  case $major$minor in "" | *[!0-9]*) return 1 ;; esac
  [ "$major" -gt 2 ] || { [ "$major" -eq 2 ] && [ "$minor" -ge 3 ]; }
}

private="$data/deno-$DENO_VERSION"
deno=""
on_path=$(command -v deno 2>/dev/null || true)
case $on_path in /*) ;; ?*) on_path="$(pwd)/$on_path" ;; esac
for candidate in "$on_path" "${DENO_INSTALL:-$HOME/.deno}/bin/deno" "$private/node_modules/deno/deno"; do
  if [ -n "$candidate" ] && deno_ok "$candidate"; then
    deno=$candidate
    break
  fi
done
if [ -z "$deno" ]; then
  command -v npm >/dev/null 2>&1 ||
    die "No Deno 2.3 or later and no npm: install Deno (https://deno.com) or Node.js, then run this again"
  say "No Deno 2.3 or later found: installing Deno $DENO_VERSION from npm (about 40 MB) into $private"
  say "  npm install --prefix $private deno@$DENO_VERSION"
  mkdir -p "$private"
  npm install --prefix "$private" --no-save --no-package-lock --no-audit --no-fund \
    --loglevel=error "deno@$DENO_VERSION" >&2 ||
    die "npm could not install deno@$DENO_VERSION into $private (see npm's message above)"
  # The package's postinstall links the binary into node_modules/deno; without scripts it stays in
  # the platform's package.
  for candidate in "$private/node_modules/deno/deno" "$private"/node_modules/@deno/*/deno; do
    if deno_ok "$candidate"; then
      deno=$candidate
      break
    fi
  done
  [ -n "$deno" ] || die "npm installed deno@$DENO_VERSION, but no Deno binary in $private runs"
fi
case $deno in *[\'\"\\\$\`]*) die "Cannot use a Deno whose path has quotes, \\, \$ or \`: $deno" ;; esac
case $deno in *[[:cntrl:]]*) die "Cannot use a Deno whose path has a control character (a newline, a tab, …)" ;; esac

say "Fetching loopauth from $from with $deno"
mkdir -p "$data" "$bin_dir"
lock="$data/deno.lock"
tmp="$bin_dir/.loopauth.$$.tmp"
trap 'rm -f "$tmp" "$lock.new"' EXIT
rm -f "$lock.new"
# The lock file records what was fetched now: the command refuses code that changes later.
"$deno" cache --quiet --no-config --lock="$lock.new" --allow-import="$origin" "$from/main.ts" ||
  die "Deno could not fetch $from/main.ts (see its message above)"
mv -f "$lock.new" "$lock"

shim="$bin_dir/loopauth"
{
  cat <<EOF
#!/bin/sh
# loopauth, written by install.sh (docs/install.md). Install again:
#   $reinstall
# Uninstall: rm '$shim' && rm -rf '$data'
deno='$deno'
main='$from/main.ts'
lock='$lock'
origin='$origin'
hosts='$hosts'
EOF
  printf 'LOOPAUTH_REINSTALL=%s\n' "$(quote "$reinstall")"
  cat <<'SHIM'
if [ ! -x "$deno" ]; then
  printf 'Error: loopauth cannot find Deno at %s: install it again with %s\n' "$deno" "$LOOPAUTH_REINSTALL" >&2
  exit 127
fi
# loopauth names this install in the hint of a host the flags leave out (--host).
export LOOPAUTH_REINSTALL
# Worked out on every run, as loopauth does (lib/store/paths.ts, agent_paths.ts), so that the
# flags follow XDG_CONFIG_HOME, XDG_RUNTIME_DIR and TMPDIR as they are now.
cfg="${XDG_CONFIG_HOME:-$HOME/.config}/loopauth"
case ${XDG_RUNTIME_DIR:-} in
  /*) run="$XDG_RUNTIME_DIR/loopauth" bus="$XDG_RUNTIME_DIR/bus" ;;
  *) run="$cfg" bus="$cfg/bus" ;;
esac
case ${TMPDIR:-} in
  /?*) short="${TMPDIR%/}/loopauth-$(id -u)" ;;
  *) short="/tmp/loopauth-$(id -u)" ;;
esac
# A comma would end a path in Deno's lists and start a path of its own choosing (--allow-write=…,/).
case "$cfg$run$short$bus" in
  *,*)
    printf 'Error: loopauth cannot run with a comma in HOME, XDG_CONFIG_HOME, XDG_RUNTIME_DIR or TMPDIR\n' >&2
    exit 12
    ;;
esac
exec "$deno" run --no-config --lock="$lock" --frozen --allow-import="$origin" \
  "--unstable-lazy-dynamic-imports" \
  "--allow-net=127.0.0.1,[::1],$hosts,unix:$cfg/agent/agent.sock,unix:$run/agent.sock,unix:$short/agent.sock,unix:$bus" \
  "--allow-env=HOME,USERPROFILE,APPDATA,XDG_CONFIG_HOME,XDG_RUNTIME_DIR,BROWSER,DISPLAY,WAYLAND_DISPLAY,WSL_DISTRO_NAME,WSL_INTEROP,SSH_CONNECTION,SSH_CLIENT,SSH_TTY,TEMP,LOOPAUTH_CLIENT_ID,LOOPAUTH_CLIENT_SECRET,LOOPAUTH_DEBUG,LOOPAUTH_STORAGE,LOOPAUTH_KEYRING_TIMEOUT,LOOPAUTH_AGENT,LOOPAUTH_PASSPHRASE_FILE,LOOPAUTH_TOKEN,GH_TOKEN,GITHUB_TOKEN,GH_ENTERPRISE_TOKEN,GITHUB_ENTERPRISE_TOKEN,CODESPACES,LOOPAUTH_HOST,GH_HOST,LOOPAUTH_USER,KUBERNETES_EXEC_INFO,PATH,HTTPS_PROXY,https_proxy,HTTP_PROXY,http_proxy,ALL_PROXY,all_proxy,NO_PROXY,no_proxy,DENO_CERT,DENO_TLS_CA_STORE,TMPDIR,XAUTHORITY,XDG_DATA_DIRS,XDG_CURRENT_DESKTOP,XDG_SESSION_TYPE,LANG,SystemRoot,DENO_DIR,XDG_CACHE_HOME,LOOPAUTH_REINSTALL,DBUS_SESSION_BUS_ADDRESS" \
  "--allow-read=$cfg,$run,$short,$bus,/.dockerenv,/run/.containerenv,/proc/1/cgroup" \
  "--allow-write=$cfg,$run,$short,$bus" \
  "--allow-sys=uid" \
  "--allow-run" \
  "$main" "$@"
SHIM
} >"$tmp"
chmod 755 "$tmp"
mv -f "$tmp" "$shim"

version=$("$shim" --version) || die "The installed $shim does not run (see its message above)"
say "Installed $version as $shim (Deno: $deno)"
case ":${PATH:-}:" in
  *":$bin_dir:"* | *":$bin_dir/:"*)
    first=$(command -v loopauth 2>/dev/null || true)
    if [ -n "$first" ] && [ "$first" != "$shim" ]; then
      say "Note: $first comes first on your PATH: remove it, or put $bin_dir before it"
    else
      say "Run: loopauth --version"
    fi
    ;;
  *)
    case $bin_dir in
      "$HOME"/*) line="export PATH=\"\$HOME/${bin_dir#"$HOME"/}:\$PATH\"" ;;
      *) line="export PATH=\"$bin_dir:\$PATH\"" ;;
    esac
    say "$bin_dir is not on your PATH: run this line, and add it to ~/.profile (or your shell's startup file):"
    say "  $line"
    ;;
esac
}
