#!/usr/bin/env bash
# The generated completion scripts: bash completes verbs, sandbox's flags (from the parser's
# table, --kill-after included), a flag's fixed words and directories, and the command after
# `--`; zsh and fish parse (where installed).
# Usage: test_completion.sh DIR (the build's completion/ directory).
set -u
dir=$1
fail=0
bad() { echo "FAIL $*"; fail=1; }
# shellcheck source=/dev/null
. "$dir/bulwark" || bad "bash: the script does not load"
comp() { # WORDS... -> the candidates, space-separated
	COMP_WORDS=("$@")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMPREPLY=()
	_bulwark
	echo "${COMPREPLY[*]}"
}
has() { case " $2 " in *" $3 "*) ;; *) bad "$1: '$3' not in: $2" ;; esac; }
has "verbs" "$(comp bulwark sa)" sandbox
has "sandbox flags" "$(comp bulwark sandbox --ki)" --kill-after
has "sandbox flags after global ones" "$(comp bulwark --root /tmp sandbox --ti)" --timeout
has "short flags" "$(comp bulwark sandbox -)" -t
has "fixed words" "$(comp bulwark sandbox --network '')" none
has "directories" "$(comp bulwark sandbox --rootfs /e)" /etc
has "the command after --" "$(comp bulwark sandbox -t -- s)" sh
case " $(comp bulwark sandbox --timeout '') " in *--*) bad "flags offered as --timeout's value" ;; esac
case " $(comp bulwark run --) " in *--kill-after*) bad "sandbox's flags offered for run" ;; esac
if command -v zsh >/dev/null; then zsh -n "$dir/_bulwark" || bad "zsh: syntax"; fi
if command -v fish >/dev/null; then fish -n "$dir/bulwark.fish" || bad "fish: syntax"; fi
[ "$fail" = 0 ] && echo "completion: ok"
exit "$fail"
