/* common/: error formatting, number parsing, path cleaning, atomic writes, in-root opening. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fdpass.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/util.h"

Test(error, wrap_prepends_context_and_text_appends_strerror)
{
	struct bw_error e = {0};
	cr_assert_eq(bw_fail(&e, ENOENT, "open `%s`", "/x"), -1);
	bw_wrap(&e, "while creating %s", "c1");
	char buf[256];
	bw_error_text(&e, buf, sizeof(buf));
	cr_assert_str_eq(buf, "while creating c1: open `/x`: No such file or directory");
}

Test(error, wrap_truncates_instead_of_overflowing)
{
	struct bw_error e = {0};
	char big[BW_ERROR_MAX + 100];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	bw_fail(&e, 0, "%s", big);
	bw_wrap(&e, "ctx");
	cr_assert_eq(strlen(e.msg), BW_ERROR_MAX - 1);
}

Test(util, strict_number_parsing)
{
	uint64_t u;
	int64_t i;
	uint32_t u32;
	cr_assert_eq(parse_u64("18446744073709551615", &u), 0);
	cr_assert_lt(parse_u64("18446744073709551616", &u), 0);
	cr_assert_lt(parse_u64("-1", &u), 0);
	cr_assert_lt(parse_u64("12x", &u), 0);
	cr_assert_lt(parse_u64("", &u), 0);
	cr_assert_eq(parse_i64("-5", &i), 0);
	cr_assert_eq(i, -5);
	cr_assert_lt(parse_i64(" 5", &i), 0);
	cr_assert_lt(parse_u32("4294967296", &u32), 0);
}

Test(util, strv)
{
	char **v = NULL;
	strv_push(&v, "a");
	strv_push(&v, "b");
	cr_assert_eq(strv_len(v), 2);
	cr_assert(strv_contains(v, "b"));
	char **d = strv_dup(v);
	cr_assert_str_eq(d[0], "a");
	strv_free(v);
	strv_free(d);
}

Test(util, strv_setenv_replaces_the_same_key_only)
{
	char **v = NULL;
	strv_push(&v, "PATH=/bin");
	strv_push(&v, "A=1");
	strv_setenv(&v, "A=2");
	strv_setenv(&v, "AB=3");
	strv_setenv(&v, "PATH=");
	cr_assert_eq(strv_len(v), 3);
	cr_assert_str_eq(v[0], "PATH=");
	cr_assert_str_eq(v[1], "A=2");
	cr_assert_str_eq(v[2], "AB=3");
	strv_free(v);
}

Test(fs, path_clean_and_join)
{
	char *p = fs_path_clean("//a/./b/../c/");
	cr_assert_str_eq(p, "/a/c");
	free(p);
	p = fs_path_clean("/../../etc");
	cr_assert_str_eq(p, "/etc");
	free(p);
	p = fs_path_join("/run/x/", "/id");
	cr_assert_str_eq(p, "/run/x/id");
	free(p);
}

Test(fs, atomic_write_replaces_and_leaves_no_temp)
{
	char dir[] = "/tmp/bwut.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	_cleanup_free_ char *f = fs_path_join(dir, "state.json");
	struct bw_error e = {0};
	cr_assert_eq(fs_write_atomic(f, "one", 3, 0600, &e), 0);
	cr_assert_eq(fs_write_atomic(f, "two!", 4, 0600, &e), 0);
	char *data = NULL;
	size_t len;
	cr_assert_eq(fs_read_file(f, 100, &data, &len, &e), 0);
	cr_assert_str_eq(data, "two!");
	free(data);
	struct stat st;
	cr_assert_eq(stat(f, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(fs_remove_tree(dir, &e), 0);
	cr_assert_neq(access(dir, F_OK), 0);
}

/* Whoever can write the directory (a sandbox's rw workspace holding --report) plants FIFOs and
 * symlinks at the names a writer would use for its temporary file: the write must neither block
 * on a FIFO nor write through a link. The old name was ".NAME.<pid>"; plant that and more. */
Test(fs, atomic_write_is_not_fooled_by_planted_temporary_names, .timeout = 10)
{
	char dir[] = "/tmp/bwut.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	_cleanup_free_ char *fifo = xasprintf("%s/.r.json.%d", dir, (int)getpid());
	_cleanup_free_ char *link = xasprintf("%s/.r.json", dir);
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	cr_assert_eq(symlink("/nonexistent-bwut-target", link), 0);
	_cleanup_free_ char *f = fs_path_join(dir, "r.json");
	struct bw_error e = {0};
	cr_assert_eq(fs_write_atomic(f, "{}", 2, 0600, &e), 0, "%s", e.msg);
	struct stat st;
	cr_assert_eq(lstat(f, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, 2);
	cr_assert_eq(lstat(fifo, &st), 0);
	cr_assert(S_ISFIFO(st.st_mode), "the planted FIFO is left alone");
	cr_assert_neq(access("/nonexistent-bwut-target", F_OK), 0);
	cr_assert_eq(fs_remove_tree(dir, &e), 0);
}

/* fs_rmdir_tree_at removes directories only (a cgroup's files go with their directory): a
 * tree of empty directories goes, one holding a file is refused with -ENOTEMPTY and the file
 * is left; a symlink below is not followed. */
Test(fs, rmdir_tree_removes_directories_only)
{
	char dir[] = "/tmp/bwut-rmdir-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	_cleanup_free_ char *a = fs_path_join(dir, "a"), *ab = fs_path_join(dir, "a/b"),
			    *abc = fs_path_join(dir, "a/b/c"), *f = fs_path_join(dir, "f/x"),
			    *fd = fs_path_join(dir, "f"), *outside = fs_path_join(dir, "out"),
			    *link = fs_path_join(dir, "a/b/l");
	cr_assert_eq(mkdir(a, 0700), 0);
	cr_assert_eq(mkdir(ab, 0700), 0);
	cr_assert_eq(mkdir(abc, 0700), 0);
	cr_assert_eq(mkdir(outside, 0700), 0);
	cr_assert_eq(mkdir(fd, 0700), 0);
	struct bw_error e = {0};
	int fdx = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	cr_assert_geq(fdx, 0);
	close(fdx);
	cr_assert_eq(fs_rmdir_tree_at(AT_FDCWD, fd), -ENOTEMPTY);
	cr_assert_eq(access(f, F_OK), 0, "the file is left");
	cr_assert_eq(symlink(outside, link), 0);
	cr_assert_eq(fs_rmdir_tree_at(AT_FDCWD, a), -ENOTEMPTY, "the symlink stays, a with it");
	cr_assert_eq(access(outside, F_OK), 0, "the symlink's target is not touched");
	cr_assert_neq(access(abc, F_OK), 0, "the empty directory below went");
	cr_assert_eq(unlink(link), 0);
	cr_assert_eq(fs_rmdir_tree_at(AT_FDCWD, a), 0);
	cr_assert_neq(access(a, F_OK), 0);
	cr_assert_eq(fs_rmdir_tree_at(AT_FDCWD, a), 0, "gone already is done");
	cr_assert_eq(fs_remove_tree(dir, &e), 0);
}

Test(fs, read_limit_is_enforced)
{
	struct bw_error e = {0};
	char *data = NULL;
	cr_assert_lt(fs_read_file("/proc/self/maps", 16, &data, NULL, &e), 0);
}

Test(fs, open_in_root_keeps_symlinks_inside)
{
	char dir[] = "/tmp/bwut.XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[512];
	snprintf(path, sizeof(path), "%s/etc", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/etc/passwd", dir);
	FILE *f = fopen(path, "w");
	fputs("inside\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/escape", dir);
	cr_assert_eq(symlink("../../../../etc/passwd", path), 0);
	struct bw_error e = {0};
	int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int fd = fs_open_in_root(root, "/escape", O_RDONLY, 0, &e);
	cr_assert_geq(fd, 0);
	char buf[16] = {0};
	cr_assert_gt(read(fd, buf, sizeof(buf) - 1), 0);
	cr_assert_str_eq(buf, "inside\n", "the symlink resolved inside the root");
	close(fd);
	fd = fs_open_in_root(root, "/proc/self/exe", O_RDONLY, 0, &e);
	cr_assert_lt(fd, 0);
	close(root);
	fs_remove_tree(dir, &e);
}

Test(util, sizes_and_durations)
{
	int64_t v;
	cr_assert_eq(parse_size("64m", &v), 0);
	cr_assert_eq(v, 64LL << 20);
	cr_assert_eq(parse_size("1G", &v), 0);
	cr_assert_eq(v, 1LL << 30);
	cr_assert_eq(parse_size("512kb", &v), 0);
	cr_assert_eq(v, 512LL << 10);
	cr_assert_eq(parse_size("-1", &v), 0);
	cr_assert_eq(v, -1);
	cr_assert_lt(parse_size("12q", &v), 0);
	cr_assert_lt(parse_size("-5", &v), 0);
	cr_assert_lt(parse_size("m", &v), 0);
}

/* Every spelling people type for the same size means the same bytes (--memory, --tmp-size,
 * update's --memory alike). */
Test(util, size_spellings_agree)
{
	static const char *const gib[] = {"1GiB", "1G",	  "1g",		"1gb",	      "1GB",
					  "1Gi",  "1gib", "1073741824", "1073741824b"};
	int64_t v;
	for (size_t i = 0; i < sizeof(gib) / sizeof(gib[0]); i++) {
		cr_assert_eq(parse_size(gib[i], &v), 0, "%s", gib[i]);
		cr_assert_eq(v, 1LL << 30, "%s", gib[i]);
	}
	cr_assert_eq(parse_size("512MiB", &v), 0);
	cr_assert_eq(v, 512LL << 20);
	cr_assert_eq(parse_size("512m", &v), 0);
	cr_assert_eq(v, 512LL << 20);
	cr_assert_eq(parse_size("0.5GiB", &v), 0);
	cr_assert_eq(v, 512LL << 20);
	static const char *const bad[] = {"1GiBx", "1GiiB", "1bb", "1ib", " 1g", "+1g",	  "0x10",
					  "inf",   "nan",   "1e3", "",	  "1 g", "1.2.3g"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_lt(parse_size(bad[i], &v), 0, "%s", bad[i]);
	cr_assert_eq(parse_duration_ms("30s", &v), 0);
	cr_assert_eq(v, 30000);
	cr_assert_eq(parse_duration_ms("1.5", &v), 0);
	cr_assert_eq(v, 1500);
	cr_assert_eq(parse_duration_ms("2m", &v), 0);
	cr_assert_eq(v, 120000);
	cr_assert_eq(parse_duration_ms("250ms", &v), 0);
	cr_assert_eq(v, 250);
	cr_assert_lt(parse_duration_ms("5x", &v), 0);
	cr_assert_lt(parse_duration_ms("-1s", &v), 0);
}

/* Input strings in messages: one line, nothing a terminal would act on. */
Test(log, escape_writes_controls_del_and_high_bytes_as_hex)
{
	char out[64];
	cr_assert_str_eq(log_escape(out, sizeof(out), "a\nb\x1b[31mc\x7f\xc3\xa9 d"),
			 "a\\x0ab\\x1b[31mc\\x7f\\xc3\\xa9 d");
	cr_assert_str_eq(log_escape(out, sizeof(out), "plain: `/x y` \"q\""),
			 "plain: `/x y` \"q\"");
}

Test(log, escape_never_splits_an_escape_or_overflows)
{
	char out[6];
	cr_assert_str_eq(log_escape(out, sizeof(out), "ab\ncd"), "ab");
	cr_assert_str_eq(log_escape(out, sizeof(out), "abcdefgh"), "abcde");
}

Test(log, quote_bounds_and_marks_a_cut)
{
	char out[12];
	cr_assert_str_eq(log_quote(out, sizeof(out), "id\t1"), "\"id\\x091\"");
	cr_assert_str_eq(log_quote(out, sizeof(out), "aaaaaaaaaaaaaaaaaaaa"), "\"aaaaaa...\"");
	cr_assert_lt(strlen(out), sizeof(out));
}

Test(fdpass, sends_data_and_every_fd_in_one_message)
{
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	int fds[3] = {STDIN_FILENO, sp[0], sp[1]};
	struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
	cr_assert_eq(fdpass_send(sp[0], iov, 2, fds, 3, 0), 4);
	char data[8];
	union {
		char buf[CMSG_SPACE(4 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec in = {data, sizeof(data)};
	struct msghdr mh = {
	    .msg_iov = &in, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	cr_assert_eq(recvmsg(sp[1], &mh, MSG_CMSG_CLOEXEC), 4);
	cr_assert_eq(memcmp(data, "abcd", 4), 0);
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	cr_assert_not_null(c);
	cr_assert_eq(c->cmsg_type, SCM_RIGHTS);
	cr_assert_eq(c->cmsg_len, CMSG_LEN(3 * sizeof(int)));
	int got[3];
	memcpy(got, CMSG_DATA(c), sizeof(got));
	for (int i = 0; i < 3; i++) {
		struct stat a, b;
		cr_assert_eq(fstat(fds[i], &a), 0);
		cr_assert_eq(fstat(got[i], &b), 0);
		cr_assert(a.st_dev == b.st_dev && a.st_ino == b.st_ino, "fd %d is another file", i);
		close(got[i]);
	}
	close(sp[0]);
	close(sp[1]);
}

Test(fdpass, without_fds_sends_no_control_and_refuses_too_many)
{
	int sp[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp), 0);
	struct iovec iov = {"x", 1};
	int many[FDPASS_MAX + 1] = {0};
	errno = 0;
	cr_assert_eq(fdpass_send(sp[0], &iov, 1, many, FDPASS_MAX + 1, 0), -1);
	cr_assert_eq(errno, EINVAL);
	cr_assert_eq(fdpass_send(sp[0], &iov, 1, NULL, 0, 0), 1);
	char buf[CMSG_SPACE(sizeof(int))], d;
	struct iovec in = {&d, 1};
	struct msghdr mh = {
	    .msg_iov = &in, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	cr_assert_eq(recvmsg(sp[1], &mh, 0), 1);
	cr_assert_eq(mh.msg_controllen, 0);
	close(sp[0]);
	close(sp[1]);
}

Test(fdpass, the_waiting_mask_leaves_the_faults_deliverable)
{
	sigset_t s;
	sigset_all_but_faults(&s, true);
	cr_assert(!sigismember(&s, SIGSEGV) && !sigismember(&s, SIGBUS));
	cr_assert(sigismember(&s, SIGCHLD) && sigismember(&s, SIGTERM) && sigismember(&s, SIGINT));
	sigset_all_but_faults(&s, false);
	cr_assert(!sigismember(&s, SIGCHLD) && sigismember(&s, SIGWINCH));
}
