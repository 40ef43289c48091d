#!/usr/bin/env python3
"""bulwark's flags, as its parser knows them, for shell completion and for the docs test.

Every verb's --help is printed from the very table its parser reads (runtime/cli/cli.c,
cli_print_help), so the flags are read from the built binary's help: nothing here lists a flag
by hand. Both help layouts are understood (bulwark's "Options:" with `-u, --user ARG`, and
runc's "OPTIONS:" with `--user ARG, -u ARG`).

    bulwark_flags.py BULWARK completion bash|zsh|fish   print a completion script
    bulwark_flags.py BULWARK check SRCDIR               sandbox's flags: --help, the parser,
                                                        the man page and the README agree
"""
import os
import re
import subprocess
import sys

ITEM = r"(--?[A-Za-z0-9][A-Za-z0-9-]*)(?: ([^\s,]+))?"
FLAG_LINE = re.compile(r"^\s+" + ITEM + r"((?:, " + ITEM + r")*)(?:\s|$)")
SECTION = re.compile(r"^(Commands|COMMANDS|Options|OPTIONS|Global options|GLOBAL OPTIONS):\s*$")


class Flag:
    def __init__(self, long, short, arg, help):
        self.long, self.short, self.arg, self.help = long, short, arg, help

    def arg_kind(self):
        """None (no argument), 'dir', 'file', a list of literal words, or 'other'."""
        a = self.arg
        if a is None:
            return None
        if "DIR" in a:
            return "dir"
        if "FILE" in a or "PATH" in a or a.startswith("SRC"):
            return "file"
        if re.fullmatch(r"[a-z]+(\|[a-z]+)*", a):
            return a.split("|")
        return "other"


# A sanitizer build (tests/run-all.sh's build-asan) runs this too: a leak report at exit is
# not a failure of --help.
ENV = dict(os.environ, LC_ALL="C",
           ASAN_OPTIONS=(os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":"))


def run_help(bulwark, args):
    p = subprocess.run([bulwark] + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                       env=ENV, text=True)
    if p.returncode != 0:
        raise SystemExit("bulwark_flags: `%s %s` failed (%d)" %
                         (bulwark, " ".join(args), p.returncode))
    return p.stdout


def sections(text):
    """{section name (lower case): [lines]}."""
    out, cur = {}, None
    for line in text.splitlines():
        m = SECTION.match(line)
        if m:
            cur = out.setdefault(m.group(1).lower(), [])
        elif cur is not None and line.strip() == "":
            cur = None
        elif cur is not None:
            cur.append(line)
    return out


def parse_flag_line(line):
    m = FLAG_LINE.match(line)
    if m is None:
        return None
    items = [(m.group(1), m.group(2))]
    for extra in re.finditer(r", " + ITEM, m.group(3)):
        items.append((extra.group(1), extra.group(2)))
    long = short = arg = None
    for name, a in items:
        if name.startswith("--"):
            long = name[2:]
        else:
            short = name[1:]
        arg = arg or a
    rest = line[m.end():].strip()
    return Flag(long, short, arg, rest) if long else None


def flags_of(lines):
    return [f for f in map(parse_flag_line, lines) if f is not None]


def verbs_of(text):
    verbs = []
    for line in sections(text).get("commands", []):
        left, _, summary = line.strip().partition("  ")
        for name in left.split(","):
            name = name.strip()
            if re.fullmatch(r"[a-z]+", name) and name not in ("help", "h"):
                verbs.append((name, summary.strip()))
    return verbs


def read_cli(bulwark):
    """(global flags, [(verb, summary, flags)])."""
    top = run_help(bulwark, ["--help"])
    s = sections(top)
    global_flags = flags_of(s.get("global options", []))
    verbs = []
    for name, summary in verbs_of(top):
        vs = sections(run_help(bulwark, [name, "--help"]))
        verbs.append((name, summary, flags_of(vs.get("options", []))))
    return global_flags, verbs


# ---- completion scripts ----

def sh_words(flags):
    words = []
    for f in flags:
        words.append("--" + f.long)
        if f.short:
            words.append("-" + f.short)
    return " ".join(words)


def bash(global_flags, verbs):
    out = ["# bash completion for bulwark; generated from its --help by completion/bulwark_flags.py",
           "_bulwark_flags() {", "\tcase $1 in",
           '\t"") echo "%s" ;;' % sh_words(global_flags)]
    for name, _, flags in verbs:
        out.append('\t%s) echo "%s" ;;' % (name, sh_words(flags)))
    out += ["\tesac", "}", "",
            "# _bulwark_arg VERB FLAG: what FLAG's argument is (dir, file, words, other), or",
            "# nothing when FLAG takes none.", "_bulwark_arg() {", '\tcase "$1 $2" in']
    for name, _, flags in [("", "", global_flags)] + verbs:
        for f in flags:
            kind = f.arg_kind()
            if kind is None:
                continue
            text = "words " + " ".join(kind) if isinstance(kind, list) else kind
            pats = ['"%s --%s"' % (name, f.long)]
            if f.short:
                pats.append('"%s -%s"' % (name, f.short))
            out.append("\t%s) echo %s ;;" % ("|".join(pats), text))
    out += ["\tesac", "}", "",
            '_bulwark_verbs="%s"' % " ".join(v[0] for v in verbs), "",
            "_bulwark() {",
            "\tlocal cur=${COMP_WORDS[COMP_CWORD]} prev verb='' i w kind",
            "\tCOMPREPLY=()",
            "\tfor ((i = 1; i < COMP_CWORD; i++)); do",
            "\t\tw=${COMP_WORDS[i]}",
            "\t\t# After `sandbox ... --` comes the command and its own arguments.",
            '\t\tif [ "$w" = -- ] && [ "$verb" = sandbox ]; then',
            "\t\t\tif [ $((i + 1)) -eq $COMP_CWORD ]; then",
            '\t\t\t\tCOMPREPLY=($(compgen -c -- "$cur"))',
            "\t\t\telse",
            '\t\t\t\tCOMPREPLY=($(compgen -f -- "$cur"))',
            "\t\t\tfi",
            "\t\t\treturn",
            "\t\tfi",
            '\t\tif [ -z "$verb" ]; then',
            '\t\t\tcase " $_bulwark_verbs " in *" $w "*) verb=$w ;; esac',
            "\t\tfi",
            "\tdone",
            "\tprev=${COMP_WORDS[COMP_CWORD - 1]}",
            '\tkind=$(_bulwark_arg "$verb" "$prev")',
            '\tcase $kind in',
            '\tdir) COMPREPLY=($(compgen -d -- "$cur")); return ;;',
            '\tfile) COMPREPLY=($(compgen -f -- "$cur")); return ;;',
            '\twords\\ *) COMPREPLY=($(compgen -W "${kind#words }" -- "$cur")); return ;;',
            "\tother) return ;;",
            "\tesac",
            '\tcase $cur in',
            '\t-*) COMPREPLY=($(compgen -W "$(_bulwark_flags "$verb")" -- "$cur")) ;;',
            '\t*) if [ -z "$verb" ]; then',
            '\t\tCOMPREPLY=($(compgen -W "$_bulwark_verbs" -- "$cur"))',
            "\telse",
            "\t\tcase $verb in",
            "\t\tsandbox | spec | features) ;;",
            '\t\t*) COMPREPLY=($(compgen -W "$(bulwark list -q 2>/dev/null)" -- "$cur")) ;;',
            "\t\tesac",
            "\tfi ;;",
            "\tesac",
            "}",
            "complete -F _bulwark bulwark", ""]
    return "\n".join(out)


def zsh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def zsh_desc(s):
    return re.sub(r"([\[\]:\\])", r"\\\1", s)


def zsh_specs(flags):
    specs = []
    for f in flags:
        kind = f.arg_kind()
        action = ""
        if kind == "dir":
            action = ":%s:_files -/" % zsh_desc(f.arg)
        elif kind == "file":
            action = ":%s:_files" % zsh_desc(f.arg)
        elif isinstance(kind, list):
            action = ":%s:(%s)" % (zsh_desc(f.arg), " ".join(kind))
        elif kind == "other":
            action = ":%s:" % zsh_desc(f.arg)
        desc = "[%s]" % zsh_desc(f.help)
        eq = "=" if kind is not None else ""
        specs.append(zsh_quote("--%s%s%s%s" % (f.long, eq, desc, action)))
        if f.short:
            specs.append(zsh_quote("-%s%s%s" % (f.short, desc, action)))
    return specs


def zsh(global_flags, verbs):
    out = ["#compdef bulwark",
           "# zsh completion for bulwark; generated from its --help by completion/bulwark_flags.py",
           "", "_bulwark_ids() {", "\tlocal -a ids",
           "\tids=(${(f)\"$(bulwark list -q 2>/dev/null)\"})",
           "\t_describe 'container id' ids", "}", "", "_bulwark() {",
           "\tlocal curcontext=$curcontext state line ret=1", "\tlocal -a verbs",
           "\tverbs=("]
    for name, summary, _ in verbs:
        out.append("\t\t%s" % zsh_quote("%s:%s" % (name, summary.replace(":", "\\:"))))
    out += ["\t)", "\t_arguments -C \\"]
    for spec in zsh_specs(global_flags):
        out.append("\t\t%s \\" % spec)
    out += ["\t\t'1:command:->verb' \\", "\t\t'*::argument:->args' && ret=0",
            "\tcase $state in", "\tverb) _describe command verbs && ret=0 ;;",
            "\targs)", "\t\tcurcontext=${curcontext%:*:*}:bulwark-$words[1]:",
            "\t\tcase $words[1] in"]
    for name, _, flags in verbs:
        rest = ("'*::command:_normal'" if name == "sandbox" else
                "" if name in ("spec", "features") else "'*:container id:_bulwark_ids'")
        specs = zsh_specs(flags) + ([rest] if rest else [])
        out.append("\t\t%s) _arguments -S %s && ret=0 ;;" % (name, " ".join(specs)))
    out += ["\t\tesac ;;", "\tesac", "\treturn ret", "}", "", '_bulwark "$@"', ""]
    return "\n".join(out)


def fish_quote(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish_lines(cond, flags):
    out = []
    for f in flags:
        kind = f.arg_kind()
        parts = ["complete -c bulwark -n %s -l %s" % (fish_quote(cond), f.long)]
        if f.short:
            parts.append("-s %s" % f.short)
        if kind == "dir":
            parts.append("-x -a '(__fish_complete_directories)'")
        elif kind == "file":
            parts.append("-r -F")
        elif isinstance(kind, list):
            parts.append("-x -a %s" % fish_quote(" ".join(kind)))
        elif kind == "other":
            parts.append("-x")
        parts.append("-d %s" % fish_quote(f.help))
        out.append(" ".join(parts))
    return out


def fish(global_flags, verbs):
    names = " ".join(v[0] for v in verbs)
    out = ["# fish completion for bulwark; generated from its --help by completion/bulwark_flags.py",
           "complete -c bulwark -f"]
    out += fish_lines("not __fish_seen_subcommand_from %s" % names, global_flags)
    for name, summary, _ in verbs:
        out.append("complete -c bulwark -n %s -a %s -d %s" % (
            fish_quote("not __fish_seen_subcommand_from %s" % names), name, fish_quote(summary)))
    for name, _, flags in verbs:
        out += fish_lines("__fish_seen_subcommand_from %s" % name, flags)
        if name not in ("sandbox", "spec", "features"):
            out.append("complete -c bulwark -n %s -a '(bulwark list -q 2>/dev/null)'" %
                       fish_quote("__fish_seen_subcommand_from %s" % name))
    out.append("complete -c bulwark -n '__fish_seen_subcommand_from sandbox; and contains -- -- "
               "(commandline -opc)' -a '(__fish_complete_subcommand --fcs-skip=2)'")
    out.append("")
    return "\n".join(out)


# ---- the docs test ----

def accepted(bulwark, verb, flag):
    """Whether the parser takes the flag: --help after it prints the help, where an unknown
    flag is an error before --help is reached."""
    tries = []
    if flag.startswith("--"):
        tries = [[flag + "=true"], [flag + "=1"]]
    else:
        tries = [[flag], [flag, "x"]]
    for t in tries:
        p = subprocess.run([bulwark, verb] + t + ["--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=ENV, text=True)
        if p.returncode == 0 and "sandbox" in p.stdout:
            return True
    return False


def man_sandbox_flags(text):
    """(flags of the sandbox synopsis line, flags of the items under it)."""
    plain = lambda s: re.sub(r"\\f[BIRP]", "", s).replace("\\-", "-")
    lines = text.splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(".B sandbox "))
    synopsis = set(doc_flags(plain(lines[start])))
    items = set()
    for i in range(start + 1, len(lines)):
        if lines[i].startswith(".RE"):
            break
        if lines[i] == ".TP" and i + 1 < len(lines):
            items |= set(doc_flags(plain(lines[i + 1])))
    return synopsis, items


def man_items(text, section):
    """{first word of each .TP item's .B line: the item's plain text} in a .SH section; an item
    naming several commands (".B pause ID, \\fBresume ID") is filed under each."""
    plain = lambda s: re.sub(r"\\f[BIRP]", "", s).replace("\\-", "-")
    lines = text.splitlines()
    start = lines.index(".SH " + section)
    items, cur = {}, None
    for line in lines[start + 1:]:
        if line.startswith(".SH"):
            break
        if line == ".TP":
            cur = None
            continue
        if cur is None and line.startswith(".B "):
            names = [line[3:].split()[0]] + re.findall(r"\\fB([a-z]+) ", line)
            cur = "\n"
            for n in names:
                items[plain(n)] = items.get(plain(n), "")
            cur = names
        if cur:
            for n in cur:
                items[plain(n)] += plain(line) + "\n"
    return items


def check_verbs(bulwark, srcdir, global_flags, verbs):
    """Every command's flags (its --help) are in its man page item, and every flag the item
    names is the command's or a global one; the same for the global options."""
    failures = []
    with open(os.path.join(srcdir, "docs", "bulwark.1")) as f:
        text = f.read()
    commands = man_items(text, "COMMANDS")
    glob = man_items(text, "GLOBAL OPTIONS")
    names = lambda fl: {"--" + fl.long} | ({"-" + fl.short} if fl.short else set())
    global_names = set().union(*(names(f) for f in global_flags))
    documented_globals = set()
    for item in glob.values():
        documented_globals |= set(doc_flags(item))
    for f in global_flags:
        if not names(f) & documented_globals:
            failures.append("--%s: a global option missing from the man page" % f.long)
    for n in sorted(documented_globals - global_names):
        failures.append("%s: in the man page's GLOBAL OPTIONS, not a global option" % n)
    checked = 0
    for verb, _, flags in verbs:
        if verb in ("sandbox", "session"):
            continue  # sandbox: check() below; session: its own sub-commands
        if verb not in commands:
            failures.append("%s: a command without an item in the man page's COMMANDS" % verb)
            continue
        documented = set(doc_flags(commands[verb]))
        own = set().union(set(), *(names(f) for f in flags))
        for f in flags:
            checked += 1
            if not names(f) & documented:
                failures.append("--%s: a flag of %s missing from its man page item" % (f.long, verb))
        for n in sorted(documented - own - global_names):
            failures.append("%s: in the man page's %s item, not a flag of %s" % (n, verb, verb))
    return checked, failures


def readme_sandbox_flags(text):
    block = re.search(r"### `bulwark sandbox`\s*\n```\n(.*?)```", text, re.S)
    return set(doc_flags(block.group(1)))


def doc_flags(s):
    return re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[A-Za-z])(?![\w-])", s)


def check(bulwark, srcdir):
    failures = []
    _, verbs = read_cli(bulwark)
    flags = dict((v[0], v[2]) for v in verbs)["sandbox"]
    helped = set()
    for f in flags:
        helped.add("--" + f.long)
        if f.short:
            helped.add("-" + f.short)
    if len(helped) < 20:
        failures.append("sandbox --help lists only %d flags: %s" % (len(helped), sorted(helped)))
    for name in sorted(helped):
        if not accepted(bulwark, "sandbox", name):
            failures.append("%s: in sandbox --help, refused by the parser" % name)
    for bogus in ("--no-such-flag", "-Q"):
        if accepted(bulwark, "sandbox", bogus):
            failures.append("%s: accepted, so the parser check proves nothing" % bogus)
    longs = set(n for n in helped if n.startswith("--"))
    with open(os.path.join(srcdir, "docs", "bulwark.1")) as f:
        synopsis, items = man_sandbox_flags(f.read())
    with open(os.path.join(srcdir, "README.md")) as f:
        readme = readme_sandbox_flags(f.read())
    for where, documented in (("man page synopsis", synopsis), ("README synopsis", readme)):
        for n in sorted(documented - helped):
            failures.append("%s: in the %s, not a sandbox flag" % (n, where))
        # Each flag by one of its names (-t stands for --tty).
        for f in flags:
            names = {"--" + f.long} | ({"-" + f.short} if f.short else set())
            if not names & documented:
                failures.append("--%s: a sandbox flag missing from the %s" % (f.long, where))
    for n in sorted(items - helped):
        failures.append("%s: described in the man page's sandbox items, not a sandbox flag" % n)
    global_flags, _ = read_cli(bulwark)
    checked, more = check_verbs(bulwark, srcdir, global_flags, verbs)
    failures += more
    for msg in failures:
        print("FAIL " + msg)
    print("%d sandbox flags, %d flags of the other commands, %d global options; %d problems" %
          (len(flags), checked, len(global_flags), len(failures)))
    return 1 if failures else 0


def main(argv):
    if len(argv) == 4 and argv[2] == "completion" and argv[3] in ("bash", "zsh", "fish"):
        g, v = read_cli(argv[1])
        sys.stdout.write({"bash": bash, "zsh": zsh, "fish": fish}[argv[3]](g, v))
        return 0
    if len(argv) == 4 and argv[2] == "check":
        return check(argv[1], argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
