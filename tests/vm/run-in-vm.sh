#!/bin/bash
# run-in-vm.sh: run one command as root in a throwaway VM booted from Debian's own kernel under
# qemu TCG, for what this host lacks: pure cgroup v2 with every controller, and AppArmor.
# The host's / is shared read-only (9p) under a tmpfs overlay; --rw DIRs are shared writable.
# Recipe and pitfalls: shared/reference/VM-NOTES.md (beside the repository); README.md here.
set -euo pipefail

usage() {
	cat <<'EOF'
usage: run-in-vm.sh [--systemd [--cgroup MODE]] [-m MEM] [-s CPUS] [-t SECS] [--rw DIR]... [-e VAR=VAL]... [-T] [-v] [--] CMD [ARG]...
  --systemd   boot with the host's systemd as PID 1 (and D-Bus) and run CMD once it is up
  --cgroup MODE  with --systemd: unified (default: pure cgroup v2), hybrid (v1 controllers,
              name=systemd v1 and cgroup2 at /sys/fs/cgroup/unified) or legacy (v1 only)
  -m MEM      guest memory (default 2G)
  -s CPUS     vCPUs (default 2, capped at the host's cores)
  -t SECS     hard wall-clock limit for the whole VM (default 600)
  --rw DIR    share DIR read-write at the same path (repeatable); the guest's /tmp, /run and
              /dev/shm are its own tmpfs, so a host dir there is visible only through --rw
  -e VAR=VAL  export VAR in the guest (repeatable)
  -T          print a timing summary to stderr
  -v          show the guest kernel console on stderr
Exit status: the command's, or 125 when the VM gave none (guest console log then on stderr).
EOF
	exit "$1"
}
die() { echo "run-in-vm: $*" >&2; exit 125; }

MEM=2G CPUS=2 TIMEOUT=600 TIMING='' VERBOSE='' SYSTEMD='' CGMODE=unified RW=() ENVS=()
while [ $# -gt 0 ]; do
	case $1 in
	-m | -s | -t | --rw | -e | --cgroup) [ $# -ge 2 ] || die "$1 needs a value" ;;
	esac
	case $1 in
	-m) MEM=$2; shift 2 ;;
	-s) CPUS=$2; shift 2 ;;
	-t) TIMEOUT=$2; shift 2 ;;
	--rw) RW+=("$2"); shift 2 ;;
	-e) ENVS+=("$2"); shift 2 ;;
	-T) TIMING=1; shift ;;
	-v) VERBOSE=1; shift ;;
	--systemd) SYSTEMD=1; shift ;;
	--cgroup) CGMODE=$2; shift 2 ;;
	-h | --help) usage 0 ;;
	--) shift; break ;;
	-*) echo "run-in-vm: unknown option $1" >&2; usage 125 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || usage 125
[ "$(id -u)" = 0 ] || die "needs root (9p export of / and apt-get)"
[[ $CPUS =~ ^[1-9][0-9]*$ ]] || die "-s: not a CPU count: $CPUS"
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "-t: not a number of seconds: $TIMEOUT"
case $CGMODE in unified | hybrid | legacy) ;; *) die "--cgroup: unified, hybrid or legacy, not $CGMODE" ;; esac
# Without systemd the guest's own stage 2 sets up (and the suite expects) pure cgroup v2.
[ "$CGMODE" = unified ] || [ -n "$SYSTEMD" ] || die "--cgroup $CGMODE needs --systemd"
# Each vCPU is a host thread and qemu's I/O thread needs CPU too: more vCPUs than cores only slows down.
[ "$CPUS" -le "$(nproc)" ] || CPUS=$(nproc)
for e in "${ENVS[@]}"; do
	[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "-e $e: not VAR=VALUE"
done
rw=()
for d in "${RW[@]}"; do
	r=$(realpath -e -- "$d" 2>/dev/null) && [ -d "$r" ] || die "--rw $d: not a directory"
	[[ $r != / && $r != *$'\n'* ]] || die "--rw: refusing $r"
	rw+=("$r")
done
RW=()
# sorted: a parent is mounted before a dir inside it
[ ${#rw[@]} -eq 0 ] || mapfile -t RW < <(printf '%s\n' "${rw[@]}" | sort -u)

# ---- host packages: install what is missing, quietly --------------------------------------------
# Newest kernel in /boot whose modules include 9p (the host's own kernel may have no /boot image).
pick_kernel() {
	local v k
	for v in $(cd /boot && ls vmlinuz-* 2>/dev/null | sed 's/^vmlinuz-//' | sort -rV); do
		for k in /lib/modules/"$v"/kernel/fs/9p/9p.ko*; do
			[ -e "$k" ] && { echo "$v"; return 0; }
		done
	done
	return 1
}
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
# busybox-static, not busybox: it is both the initramfs userland and stage 2's shell, and has no libs.
[ "$(dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null)" = installed ] ||
	need+=(busybox-static)
# kmod: the guest kernel autoloads modules (nf_tables, loop, veth...) with the shared root's modprobe.
[ -x /sbin/modprobe ] || need+=(kmod)
command -v cpio >/dev/null || need+=(cpio)
command -v xz >/dev/null || need+=(xz-utils)
pick_kernel >/dev/null || need+=(linux-image-amd64)
# --systemd: the host's own systemd and D-Bus (installed only, never started on the host).
[ -z "$SYSTEMD" ] || [ -x /lib/systemd/systemd ] || need+=(systemd)
[ -z "$SYSTEMD" ] || command -v dbus-daemon >/dev/null || need+=(dbus)
if [ ${#need[@]} -gt 0 ]; then
	log=$(mktemp)
	echo "run-in-vm: installing ${need[*]}" >&2
	inst() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"; }
	# A stale package list fails the first try on a fresh machine; refresh it once.
	inst >"$log" 2>&1 || { apt-get update -q >>"$log" 2>&1 && inst >>"$log" 2>&1; } ||
		{ cat "$log" >&2; rm -f "$log"; die "apt-get install ${need[*]} failed"; }
	rm -f "$log"
fi
KVER=$(pick_kernel) || die "no kernel with 9p modules in /boot"
KIMG=/boot/vmlinuz-$KVER MODDIR=/lib/modules/$KVER

# ---- cache: ELF vmlinux for PVH boot, minimal initramfs --------------------------------------------
CACHE=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/bulwark-vm/$KVER
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9 # concurrent runs must not build the cache at the same time

# PVH: qemu can enter an ELF vmlinux directly at its PVH note (Xen note type 0x12), which skips the
# real-mode setup and the in-guest XZ decompression, both slow under TCG (saves 3-4 s a boot).
# The bzImage embeds the vmlinux as an xz stream; find its magic and decompress it on the host.
build_vmlinux() {
	local off
	off=$(LC_ALL=C grep -obUaP -m1 '\xfd7zXZ\x00' "$KIMG" | cut -d: -f1)
	[ -n "$off" ] || return 1
	# xz stops after the stream (padding follows it): tail then dies of SIGPIPE, so not a pipeline.
	xz -dc --single-stream <(tail -c +$((off + 1)) "$KIMG") >"$CACHE/vmlinux.new" 2>/dev/null ||
		return 1
	# The note header: namesz 4, descsz 8, type 0x12, name "Xen".
	LC_ALL=C grep -qaP '\x04\x00\x00\x00\x08\x00\x00\x00\x12\x00\x00\x00Xen\x00' \
		"$CACHE/vmlinux.new" || return 1
	mv "$CACHE/vmlinux.new" "$CACHE/vmlinux"
}
# Stage 1, /init in the initramfs: load the modules, build the root, mount the API filesystems.
STAGE1='#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "vm-init: $*"; poweroff -f; }
mount -t proc proc /proc && mount -t sysfs sys /sys && mount -t devtmpfs dev /dev || fail "api fs"
for m in $(cat /modules); do insmod "/lib/modules/$m.ko" || fail "insmod $m"; done
# 9p opts: msize 512000 is the largest 6.1 accepts; cache=loose is safe for the read-only root since
# host files do not change under a run, and makes warm reads ~2x faster than cache=none.
o=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /lower /upper /newroot
mount -t 9p -o ro,$o,cache=loose rootfs /lower || fail "9p root"
# tmpfs overlay: the whole root is writable (/etc, /var...) and every write is thrown away.
mount -t tmpfs -o mode=755 upper /upper && mkdir /upper/u /upper/w &&
	mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w root /newroot ||
	fail "overlay"
cd /newroot || fail "cd"
# The 9p export of / crosses the host mounts of /proc, /sys, /dev: the guest mounts its own on top.
mount -t proc proc proc && mount -t sysfs sys sys && mount -t devtmpfs dev dev &&
	mkdir -p dev/pts dev/shm dev/mqueue &&
	mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts dev/pts &&
	ln -sf pts/ptmx dev/ptmx &&
	mount -t tmpfs -o mode=1777,nosuid,nodev shm dev/shm &&
	mount -t mqueue mqueue dev/mqueue &&
	mount -t tmpfs -o mode=1777,nosuid,nodev tmp tmp &&
	mount -t tmpfs -o mode=755,nosuid,nodev run run &&
	mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 sys/fs/cgroup &&
	mount -t securityfs securityfs sys/kernel/security &&
	mount -t bpf -o mode=700 bpf sys/fs/bpf || fail "mounting the api filesystems"
# devtmpfs has no /dev/fd, /dev/std*: bash process substitution and "cat /dev/stdin" need them.
ln -sf /proc/self/fd dev/fd && ln -sf fd/0 dev/stdin && ln -sf fd/1 dev/stdout &&
	ln -sf fd/2 dev/stderr || fail "dev links"
mkdir -p run/vmctl && mount -t 9p -o $o vmctl run/vmctl || fail "9p vmctl"
# rw shares: cache=mmap keeps host and guest coherent and shared writable mmap working (linkers).
while read -r tag dir; do
	mkdir -p ".$dir" && mount -t 9p -o $o,cache=mmap "$tag" ".$dir" || fail "9p $dir"
done < run/vmctl/mounts
cp /stage2 run/vm-stage2 || fail "stage2"
if [ -f run/vmctl/systemd ]; then
	# systemd as PID 1: our units in the throwaway /etc, and the host units this VM cannot use or
	# need (disks, udev, timers, the host AppArmor profiles: minutes under TCG) masked there.
	d=etc/systemd/system
	mkdir -p $d && cp /sd/* $d/ || fail "systemd units"
	for u in $(cat /sd-mask); do ln -sf /dev/null $d/$u; done
	# Generators: disks, gettys, SysV scripts and host services this VM does not boot.
	mkdir -p etc/systemd/system-generators &&
		for g in lib/systemd/system-generators/*; do
			[ "${g##*/}" = systemd-run-generator ] ||
				ln -sf /dev/null "etc/systemd/system-generators/${g##*/}"
		done
	: >etc/fstab && echo bulwark-vm >etc/hostname
	# The host may itself be a container: its marker would make systemd act as a container
	# manager (ignoring the kernel command line, skipping units), though it runs a VM.
	rm -f .dockerenv run/.containerenv
	# --cgroup hybrid/legacy: systemd mounts the v1 hierarchies itself, on an empty
	# /sys/fs/cgroup (a cgroup2 mount there would make it take the host for unified).
	[ ! -f run/vmctl/cgroup-v1 ] || umount sys/fs/cgroup || fail "umount cgroup2"
	umount /proc /sys /dev
	exec switch_root /newroot /lib/systemd/systemd
fi
umount /proc /sys /dev
exec switch_root /newroot /bin/busybox sh /run/vm-stage2
'

# Stage 2, PID 1 on the shared root: run the command, report its status, power off.
# Under systemd (--systemd) it is the command service's ExecStart instead: systemd owns the
# cgroup tree there, and the leftovers to kill exclude PID 1 as before.
STAGE2='export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
bb=/bin/busybox ctl=/run/vmctl
# The command output goes raw to ttyS1: no echo, no \n -> \r\n.
$bb stty -F /dev/ttyS1 raw -echo
$bb hostname bulwark-vm
$bb ip link set lo up
if [ $$ = 1 ]; then
	for c in $($bb cat /sys/fs/cgroup/cgroup.controllers); do
		echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || echo "vm: cannot enable $c"
	done
fi
# stdout is a pipe, as in CI: on the tty itself tools act interactive (colours, paging).
$bb mkfifo /run/vm-out
$bb cat /run/vm-out >/dev/ttyS1 & cat=$!
: >$ctl/started
$bb env -i PATH=$PATH HOME=/root USER=root LOGNAME=root SHELL=/bin/bash \
	/bin/bash $ctl/cmd </dev/null >/run/vm-out 2>&1 & cmd=$!
wait $cmd
rc=$?
# Daemons the command left behind may hold the pipe open: kill all but cat (kernel threads ignore
# it), so cat drains what was written and sees EOF instead of hanging until the timeout.
for p in /proc/[0-9]*; do
	p=${p#/proc/}
	[ "$p" = 1 ] || [ "$p" = $$ ] || [ "$p" = "$cat" ] || kill -9 "$p" 2>/dev/null
done
wait $cat
echo $rc >$ctl/rc
sync
$bb poweroff -f
'

# --systemd: the target the guest boots (systemd.unit=), the command's service, and the units
# masked in the guest's /etc (host disks, udev, timers, host AppArmor profiles, first-boot
# services: what a diskless throwaway VM neither has nor needs, and what costs seconds under TCG).
SD_TARGET='[Unit]
Description=run-in-vm: the command and what it needs
Requires=bulwark-vm.service
After=bulwark-vm.service
AllowIsolate=yes
'
SD_SERVICE='[Unit]
Description=run-in-vm command
DefaultDependencies=no
Requires=sysinit.target dbus.socket dbus.service
After=sysinit.target dbus.socket dbus.service
[Service]
Type=simple
ExecStart=/bin/busybox sh /run/vm-stage2
StandardInput=null
StandardOutput=journal+console
'
SD_MASK='apparmor.service systemd-pstore.service systemd-timesyncd.service systemd-udev-trigger.service
systemd-udevd.service systemd-udev-settle.service systemd-binfmt.service
proc-sys-fs-binfmt_misc.automount systemd-random-seed.service systemd-repart.service
systemd-firstboot.service systemd-machine-id-commit.service systemd-update-utmp.service
systemd-journal-flush.service systemd-pcrphase-sysinit.service systemd-pcrphase.service
systemd-modules-load.service systemd-sysusers.service systemd-remount-fs.service
systemd-fsck-root.service systemd-hwdb-update.service ldconfig.service
systemd-journal-catalog-update.service systemd-ask-password-console.path sys-kernel-debug.mount
sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount
dev-hugepages.mount'

# Modules to mount root, in dependency order (modules.dep); everything else is autoloaded later
# from the shared root's /lib/modules.
moddeps() { awk -v m="$1" -F': *' '$1 ~ "/" m "\\.ko(\\.xz)?$" { print $1 }' "$MODDIR/modules.dep"; }
declare -A seen=()
modorder() { # $1: path relative to MODDIR; prints dependencies first
	local dep deps
	[ -n "${seen[$1]:-}" ] && return
	seen[$1]=1
	deps=$(awk -F': *' -v p="$1" '$1 == p { print $2 }' "$MODDIR/modules.dep")
	for dep in $deps; do modorder "$dep"; done
	echo "$1"
}
build_initramfs() {
	local d m path name
	d=$(mktemp -d)
	mkdir -p "$d"/{bin,dev,proc,sys,lib/modules}
	cp /bin/busybox "$d/bin/busybox"
	mknod -m 600 "$d/dev/console" c 5 1 # the kernel opens it for init's stdio before /init runs
	printf '%s' "$STAGE1" >"$d/init" && chmod 755 "$d/init"
	printf '%s' "$STAGE2" >"$d/stage2"
	mkdir "$d/sd"
	printf '%s' "$SD_TARGET" >"$d/sd/bulwark-vm.target"
	printf '%s' "$SD_SERVICE" >"$d/sd/bulwark-vm.service"
	printf '%s\n' $SD_MASK >"$d/sd-mask"
	for m in virtio_pci 9pnet_virtio 9p overlay; do
		path=$(moddeps "$m" | head -n1)
		[ -n "$path" ] || { rm -rf "$d"; die "module $m not in $MODDIR/modules.dep"; }
		modorder "$path"
	done >"$d/order"
	while read -r path; do
		name=$(basename "$path"); name=${name%%.ko*}
		case $path in
		*.ko) cp "$MODDIR/$path" "$d/lib/modules/$name.ko" ;;
		*.ko.xz) xz -dc "$MODDIR/$path" >"$d/lib/modules/$name.ko" ;; # busybox insmod: no xz
		esac
		echo "$name"
	done <"$d/order" >"$d/modules"
	rm "$d/order"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$CACHE/initramfs.new"
	rm -rf "$d"
	mv "$CACHE/initramfs.new" "$CACHE/initramfs.gz"
}
# Rebuilt when this script, busybox or the kernel (image or modules) change.
key=$( (cat "$0"; stat -c '%n %s %Y' /bin/busybox "$KIMG" "$MODDIR/modules.dep") | sha256sum)
if [ "$(cat "$CACHE/key" 2>/dev/null)" != "$key" ]; then
	rm -f "$CACHE/key" "$CACHE/vmlinux" "$CACHE/initramfs.gz"
	build_vmlinux || { rm -f "$CACHE/vmlinux.new"; echo "run-in-vm: no PVH vmlinux, booting the bzImage (slower)" >&2; }
	build_initramfs
	echo "$key" >"$CACHE/key"
fi
KERNEL=$KIMG
[ -f "$CACHE/vmlinux" ] && KERNEL=$CACHE/vmlinux
flock -u 9

# ---- per-run control dir, shared as "vmctl": the command in, the status and time stamps out ------
RUN=$(mktemp -d /tmp/bulwark-vm.XXXXXX)
qpid=
cleanup() {
	# timeout passes the signal on to qemu (and SIGKILLs it 10 s later if need be).
	[ -z "$qpid" ] || { kill -TERM "$qpid" 2>/dev/null; wait "$qpid"; } || true
	rm -rf "$RUN"
}
trap cleanup EXIT
trap 'echo "run-in-vm: interrupted" >&2; cleanup; exit 125' INT TERM HUP
mkdir "$RUN/ctl"
qarg() { printf '%s' "${1//,/,,}"; } # qemu option values escape "," as ",,"

shares=() i=0 cwd_seen=''
for dir in "${RW[@]}"; do
	shares+=(-fsdev "local,id=rw$i,path=$(qarg "$dir"),security_model=none,multidevs=remap"
		-device "virtio-9p-pci,fsdev=rw$i,mount_tag=rw$i")
	echo "rw$i $dir" >>"$RUN/ctl/mounts"
	case $PWD/ in "$dir"/*) cwd_seen=1 ;; esac
	i=$((i + 1))
done
touch "$RUN/ctl/mounts"
[ -z "$SYSTEMD" ] || touch "$RUN/ctl/systemd"
[ "$CGMODE" = unified ] || touch "$RUN/ctl/cgroup-v1"
# The guest has its own tmpfs on /tmp, /run, /dev/shm: the host's are invisible there.
case $PWD/ in
/tmp/* | /run/* | /dev/shm/*)
	[ -n "$cwd_seen" ] || echo "run-in-vm: warning: cwd $PWD is hidden in the guest; pass --rw" >&2 ;;
esac
{
	for e in "${ENVS[@]}"; do
		printf 'export %s=%q\n' "${e%%=*}" "${e#*=}"
	done
	printf 'cd -- %q 2>/dev/null || cd /\n' "$PWD"
	# %q may emit $'...' (newlines): the guest runs this with bash, not a POSIX sh.
	printf '%q ' "$@"
	echo
} >"$RUN/ctl/cmd"

# ---- qemu ---------------------------------------------------------------------------------------
console=(-chardev "file,id=con,path=$(qarg "$RUN/console.log")")
[ -z "$VERBOSE" ] ||
	console=(-chardev "file,id=con,path=/dev/stderr,append=on,logfile=$(qarg "$RUN/console.log")")
# panic=-1 with -no-reboot: a guest panic ends qemu at once. cgroup_no_v1=all leaves every controller
# free for v2; --cgroup hybrid/legacy boots systemd on the v1 hierarchies instead (systemd 252
# still has them: systemd.unified_cgroup_hierarchy=0 is legacy with Debian's default-hierarchy,
# and legacy_systemd_cgroup_controller=0 makes it hybrid). Debian builds AppArmor in but needs
# it selected.
cmdline="console=ttyS0 panic=-1 rdinit=/init mitigations=off"
case $CGMODE in
unified) cmdline+=" cgroup_no_v1=all" ;;
hybrid) cmdline+=" systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=0" ;;
legacy) cmdline+=" systemd.unified_cgroup_hierarchy=0 systemd.legacy_systemd_cgroup_controller=1" ;;
esac
if [ -n "$VERBOSE" ]; then cmdline+=" loglevel=7"; else cmdline+=" loglevel=4 quiet"; fi
cmdline+=" apparmor=1 security=apparmor i8042.noaux i8042.nokbd"
[ -z "$SYSTEMD" ] || cmdline+=" systemd.unit=bulwark-vm.target"
t0=$(date +%s.%N)
# timeout --foreground: otherwise qemu runs in a background process group and its stdio chardev
# gets SIGTTOU/SIGTTIN on a terminal. stdin is /dev/null: nothing is forwarded to the guest.
# Started with & and waited for, because bash runs the INT/TERM trap only after a foreground
# child ends: the trap must stop qemu at once.
timeout --foreground -k 10 "$TIMEOUT" qemu-system-x86_64 \
	-nodefaults -no-user-config -display none -no-reboot \
	-machine pc -accel tcg,thread=multi -cpu max -smp "$CPUS" -m "$MEM" \
	-kernel "$KERNEL" -initrd "$CACHE/initramfs.gz" -append "$cmdline" \
	-fsdev local,id=rootfs,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=rootfs,mount_tag=rootfs \
	-fsdev "local,id=vmctl,path=$(qarg "$RUN/ctl"),security_model=none" \
	-device virtio-9p-pci,fsdev=vmctl,mount_tag=vmctl \
	"${shares[@]}" \
	"${console[@]}" -serial chardev:con \
	-chardev stdio,id=out,signal=off -serial chardev:out \
	</dev/null &
qpid=$!
wait "$qpid" || true
qpid=
t3=$(date +%s.%N)

if [ -n "$TIMING" ] && [ -f "$RUN/ctl/rc" ]; then
	# qemu creates these files on the host: their mtimes are host clock stamps.
	t1=$(stat -c %.9Y "$RUN/ctl/started") t2=$(stat -c %.9Y "$RUN/ctl/rc")
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" 'BEGIN { printf \
		"run-in-vm: boot %.2fs, command %.2fs, shutdown %.2fs, total %.2fs\n", b-a, c-b, d-c, d-a }' >&2
fi
rc=$(cat "$RUN/ctl/rc" 2>/dev/null) || rc=
if ! [[ $rc =~ ^[0-9]+$ ]]; then
	echo "run-in-vm: the VM gave no exit status (boot failure, panic or timeout after ${TIMEOUT}s)" >&2
	echo "---- guest console ----" >&2
	cat "$RUN/console.log" >&2 2>/dev/null || true
	exit 125
fi
exit "$rc"
