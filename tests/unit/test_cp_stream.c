/* runtime/cp/cp_stream.c: the receiver of `bulwark cp` refuses every malformed or hostile frame
 * (names, types, sizes, depth, budget, a stream that ends or stalls) and leaves nothing of a
 * refused copy; a tree sent by cp_send_tree comes back the same, its symlinks as symlinks. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/error.h"
#include "common/util.h"
#include "runtime/cp/cp_stream.h"

static char tmp[64];
static int sv[2];
static int dirfd_ = -1;

static void setup(void)
{
	strcpy(tmp, "/tmp/bw-cpstream.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	dirfd_ = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	cr_assert_geq(dirfd_, 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void teardown(void)
{
	char *cmd = xasprintf("chmod -R u+rwx '%s'; rm -rf '%s'", tmp, tmp);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	close(dirfd_);
	close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
}

static void frame(uint32_t type, uint32_t mode, const char *name, size_t name_len, uint64_t size)
{
	struct cp_frame f = {
	    .type = type, .mode = mode, .name_len = (uint32_t)name_len, .size = size};
	cr_assert_eq(write(sv[1], &f, sizeof(f)), (ssize_t)sizeof(f));
	if (name_len > 0)
		cr_assert_eq(write(sv[1], name, name_len), (ssize_t)name_len);
}

static void data(const char *s, size_t n)
{
	cr_assert_eq(write(sv[1], s, n), (ssize_t)n);
}

static void end_stream(void)
{
	close(sv[1]);
	sv[1] = -1;
}

/* Receive into tmp under "top"; returns the result with the message in msg. */
static int receive(uint64_t budget, int timeout_ms, char msg[static BW_ERROR_MAX])
{
	struct bw_error err = {0};
	struct cp_recv_opts o = {
	    .sock = sv[0], .timeout_ms = timeout_ms, .max_bytes = budget, .shown = "dst"};
	int r = cp_recv_tree(&o, dirfd_, "top", &err);
	bw_error_text(&err, msg, BW_ERROR_MAX);
	return r;
}

static void assert_empty(void)
{
	char *cmd = xasprintf("test -z \"$(ls -A '%s')\"", tmp);
	cr_assert_eq(system(cmd), 0, "the refused copy left something in %s", tmp);
	free(cmd);
}

static void refused_name(const char *name, size_t len)
{
	char msg[BW_ERROR_MAX];
	frame(CP_FRAME_DIR, 0755, "d", 1, 0);
	frame(CP_FRAME_FILE, 0644, name, len, 0);
	end_stream();
	cr_assert_eq(receive(0, 1000, msg), -1);
	cr_assert(strstr(msg, "the sender named an entry") || strstr(msg, "name length"), "%s",
		  msg);
	assert_empty();
}

TestSuite(cp_stream, .init = setup, .fini = teardown);

Test(cp_stream, names_with_dots_slashes_or_nul_are_refused)
{
	refused_name("..", 2);
}
Test(cp_stream, a_name_with_a_slash_is_refused)
{
	refused_name("a/b", 3);
}
Test(cp_stream, a_name_with_nul_is_refused)
{
	refused_name("a\0b", 3);
}
Test(cp_stream, a_dot_is_refused)
{
	refused_name(".", 1);
}
Test(cp_stream, an_empty_or_too_long_name_is_refused)
{
	char msg[BW_ERROR_MAX];
	frame(CP_FRAME_FILE, 0644, NULL, 0, 0);
	end_stream();
	cr_assert_eq(receive(0, 1000, msg), -1);
	cr_assert(strstr(msg, "name length 0"), "%s", msg);
	assert_empty();
}

Test(cp_stream, unknown_types_and_reserved_bits_are_refused)
{
	char msg[BW_ERROR_MAX];
	struct cp_frame f = {.type = CP_FRAME_FILE, .reserved = 1, .name_len = 1};
	cr_assert_eq(write(sv[1], &f, sizeof(f)), (ssize_t)sizeof(f));
	end_stream();
	cr_assert_eq(receive(0, 1000, msg), -1);
	cr_assert(strstr(msg, "malformed copy frame"), "%s", msg);
	assert_empty();
}

Test(cp_stream, a_budget_overrun_removes_the_partial_tree)
{
	char msg[BW_ERROR_MAX];
	frame(CP_FRAME_DIR, 0755, "d", 1, 0);
	frame(CP_FRAME_FILE, 0644, "a", 1, 4);
	data("1234", 4);
	frame(CP_FRAME_FILE, 0644, "b", 1, 7);
	data("1234567", 7);
	end_stream();
	cr_assert_eq(receive(10, 1000, msg), -1);
	cr_assert(strstr(msg, "dst/b: the copy exceeds its budget of 10 bytes") ||
		      strstr(msg, "`dst/b`: the copy exceeds its budget of 10 bytes"),
		  "%s", msg);
	assert_empty();
}

Test(cp_stream, a_stream_that_ends_inside_a_file_leaves_no_file)
{
	char msg[BW_ERROR_MAX];
	frame(CP_FRAME_FILE, 0644, "f", 1, 100);
	data("abc", 3);
	end_stream();
	cr_assert_eq(receive(0, 1000, msg), -1);
	cr_assert(strstr(msg, "ended the copy early"), "%s", msg);
	assert_empty();
}

Test(cp_stream, a_stalled_sender_times_out)
{
	char msg[BW_ERROR_MAX];
	frame(CP_FRAME_DIR, 0755, "d", 1, 0);
	cr_assert_eq(receive(0, 200, msg), -1);
	cr_assert(strstr(msg, "made no progress"), "%s", msg);
	assert_empty();
}

Test(cp_stream, deeper_than_the_limit_is_refused)
{
	char msg[BW_ERROR_MAX];
	for (int i = 0; i <= CP_MAX_DEPTH + 1; i++)
		frame(CP_FRAME_DIR, 0755, "d", 1, 0);
	end_stream();
	cr_assert_eq(receive(0, 1000, msg), -1);
	cr_assert(strstr(msg, "deeper than"), "%s", msg);
	assert_empty();
}

Test(cp_stream, setid_bits_are_dropped_and_a_symlink_target_with_nul_refused)
{
	char msg[BW_ERROR_MAX];
	struct stat st;
	frame(CP_FRAME_DIR, 02755, "d", 1, 0);
	frame(CP_FRAME_FILE, 06755, "s", 1, 1);
	data("x", 1);
	frame(CP_FRAME_END, 0, NULL, 0, 0);
	frame(CP_FRAME_DONE, 0, NULL, 0, 0);
	cr_assert_eq(receive(0, 1000, msg), 0, "%s", msg);
	cr_assert_eq(fstatat(dirfd_, "top/s", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);
	cr_assert_eq(fstatat(dirfd_, "top", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(st.st_mode & 07777, 0755);
	frame(CP_FRAME_DIR, 0755, "d", 1, 0);
	frame(CP_FRAME_LINK, 0, "l", 1, 3);
	data("a\0b", 3);
	end_stream();
	struct bw_error err = {0};
	struct cp_recv_opts o = {.sock = sv[0], .timeout_ms = 1000, .shown = "dst"};
	cr_assert_eq(cp_recv_tree(&o, dirfd_, "other", &err), -1);
	cr_assert(strstr(err.msg, "NUL"), "%s", err.msg);
	cr_assert_neq(fstatat(dirfd_, "other", &st, AT_SYMLINK_NOFOLLOW), 0);
}

Test(cp_stream, a_symlink_at_the_name_is_not_written_through)
{
	char msg[BW_ERROR_MAX];
	char *victim = xasprintf("%s/victim", tmp);
	cr_assert_eq(symlinkat(victim, dirfd_, "top"), 0);
	frame(CP_FRAME_FILE, 0644, "f", 1, 1);
	data("x", 1);
	frame(CP_FRAME_DONE, 0, NULL, 0, 0);
	cr_assert_eq(receive(0, 1000, msg), -1);
	cr_assert(strstr(msg, "exists and is not a regular file"), "%s", msg);
	cr_assert_neq(access(victim, F_OK), 0);
	free(victim);
}

Test(cp_stream, more_than_one_top_entry_is_refused)
{
	char msg[BW_ERROR_MAX];
	frame(CP_FRAME_FILE, 0644, "f", 1, 0);
	frame(CP_FRAME_FILE, 0644, "g", 1, 0);
	end_stream();
	cr_assert_eq(receive(0, 1000, msg), -1);
	cr_assert(strstr(msg, "more than one entry"), "%s", msg);
}

Test(cp_stream, a_sent_tree_comes_back_the_same)
{
	char msg[BW_ERROR_MAX];
	char *cmd = xasprintf("cd '%s' && mkdir -p src/s && echo hi >src/a && chmod 640 src/a && "
			      "ln -s /etc/passwd src/s/l && mkfifo src/p",
			      tmp);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
	pid_t pid = fork();
	if (pid == 0) {
		struct bw_error err = {0};
		struct cp_send_opts o = {.sock = sv[1], .timeout_ms = 5000, .warn_inband = true};
		int src = openat(dirfd_, "src", O_RDONLY | O_DIRECTORY);
		_exit(cp_send_tree(&o, src, "src", "src", &err) < 0 ? 1 : 0);
	}
	end_stream();
	cr_assert_eq(receive(0, 5000, msg), 0, "%s", msg);
	int status;
	waitpid(pid, &status, 0);
	cr_assert_eq(status, 0);
	cmd = xasprintf("cd '%s/top' && test \"$(cat a) $(stat -c %%a a) $(readlink s/l)\" = "
			"'hi 640 /etc/passwd' && test ! -e p",
			tmp);
	cr_assert_eq(system(cmd), 0);
	free(cmd);
}

static void on_alarm(int sig)
{
	(void)sig;
	cp_stream_interrupted = 1;
}

Test(cp_stream, an_interrupt_stops_a_waiting_copy_and_undoes_it)
{
	char msg[BW_ERROR_MAX];
	struct sigaction sa = {.sa_handler = on_alarm}, old;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &old);
	frame(CP_FRAME_DIR, 0755, "d", 1, 0);
	frame(CP_FRAME_FILE, 0644, "a", 1, 1);
	data("x", 1);
	alarm(1);
	cr_assert_eq(receive(0, 20000, msg), -1);
	alarm(0);
	sigaction(SIGALRM, &old, NULL);
	cp_stream_interrupted = 0;
	cr_assert(strstr(msg, "interrupted"), "%s", msg);
	assert_empty();
}

/* Chunks of zeros become holes: 4 MiB of zeros then "x" takes a block or two, not 4 MiB, and
 * reads back the same. */
Test(cp_stream, zeros_are_received_as_holes)
{
	char msg[BW_ERROR_MAX];
	struct stat st;
	const size_t zeros = 4u << 20;
	pid_t pid = fork();
	if (pid == 0) {
		char *z = xcalloc(1, zeros);
		frame(CP_FRAME_FILE, 0644, "f", 1, zeros + 1);
		data(z, zeros);
		data("x", 1);
		frame(CP_FRAME_DONE, 0, NULL, 0, 0);
		_exit(0);
	}
	end_stream();
	cr_assert_eq(receive(0, 5000, msg), 0, "%s", msg);
	waitpid(pid, NULL, 0);
	cr_assert_eq(fstatat(dirfd_, "top", &st, AT_SYMLINK_NOFOLLOW), 0);
	cr_assert_eq(st.st_size, (off_t)zeros + 1);
	cr_assert_lt(st.st_blocks * 512, 1 << 20, "%lld bytes allocated",
		     (long long)st.st_blocks * 512);
	int fd = openat(dirfd_, "top", O_RDONLY);
	char c = 0;
	cr_assert_eq(pread(fd, &c, 1, (off_t)zeros), 1);
	cr_assert_eq(c, 'x');
	cr_assert_eq(pread(fd, &c, 1, 4096), 1);
	cr_assert_eq(c, 0);
	close(fd);
}

/* keep_space: a reserve the file system cannot keep refuses the copy before anything. */
Test(cp_stream, a_reserve_larger_than_the_free_space_is_refused)
{
	struct bw_error err = {0};
	frame(CP_FRAME_FILE, 0644, "f", 1, 1);
	data("x", 1);
	frame(CP_FRAME_DONE, 0, NULL, 0, 0);
	struct cp_recv_opts o = {.sock = sv[0],
				 .timeout_ms = 1000,
				 .shown = "dst",
				 .keep_space = true,
				 .space_fd = dirfd_,
				 .space_reserve = UINT64_MAX};
	cr_assert_eq(cp_recv_tree(&o, dirfd_, "top", &err), -1);
	cr_assert(strstr(err.msg, "less than 5% of its file system free"), "%s", err.msg);
	assert_empty();
}

/* Whether pid has a file below tmp open (the file being received). */
static bool has_file_below_tmp(pid_t pid)
{
	char *dir = xasprintf("/proc/%d/fd", (int)pid), *prefix = xasprintf("%s/", tmp);
	DIR *d = opendir(dir);
	struct dirent *e;
	bool found = false;
	while (d != NULL && !found && (e = readdir(d)) != NULL) {
		char link[PATH_MAX] = "", *p = xasprintf("%s/%s", dir, e->d_name);
		found = readlink(p, link, sizeof(link) - 1) > 0 &&
			strncmp(link, prefix, strlen(prefix)) == 0;
		free(p);
	}
	if (d != NULL)
		closedir(d);
	free(dir);
	free(prefix);
	return found;
}

/* A receiver killed (SIGKILL: nothing of ours runs) in the middle of a file leaves no name
 * behind: the file being written has none until it is complete. */
Test(cp_stream, a_receiver_killed_mid_file_leaves_no_name)
{
	char msg[BW_ERROR_MAX];
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[1]);
		_exit(receive(0, 20000, msg) == 0 ? 0 : 1);
	}
	frame(CP_FRAME_DIR, 0755, "d", 1, 0);
	frame(CP_FRAME_FILE, 0644, "f", 1, 1 << 20);
	data("some data", 9);
	for (int i = 0; i < 200 && !has_file_below_tmp(pid); i++)
		usleep(10000);
	cr_assert(has_file_below_tmp(pid), "the receiver never opened the file");
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* The directory it made stays (only the file is unnamed): nothing else. */
	char *cmd = xasprintf("test \"$(ls -A '%s/top')\" = \"\"", tmp);
	cr_assert_eq(system(cmd), 0, "a named temporary file was left in %s/top", tmp);
	free(cmd);
}

/* A sender that trickles (a byte every 50 ms: never idle) is still stopped at the deadline,
 * and what it made is undone. */
Test(cp_stream, a_trickling_sender_is_stopped_at_the_deadline)
{
	char msg[BW_ERROR_MAX];
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		frame(CP_FRAME_DIR, 0755, "d", 1, 0);
		frame(CP_FRAME_FILE, 0644, "f", 1, 1000);
		for (int i = 0; i < 1000; i++) {
			if (write(sv[1], "x", 1) != 1)
				_exit(0);
			usleep(50000);
		}
		_exit(0);
	}
	close(sv[1]);
	sv[1] = -1;
	struct bw_error err = {0};
	struct cp_recv_opts o = {
	    .sock = sv[0], .timeout_ms = 1000, .deadline_ms = cp_now_ms() + 700, .shown = "dst"};
	int64_t start = cp_now_ms();
	int r = cp_recv_tree(&o, dirfd_, "top", &err);
	int64_t took = cp_now_ms() - start;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	bw_error_text(&err, msg, BW_ERROR_MAX);
	cr_assert_eq(r, -1);
	cr_assert(strstr(msg, "did not finish within its time limit"), "%s", msg);
	cr_assert(took >= 600 && took < 3000, "took %lld ms", (long long)took);
	assert_empty();
}
