/* SPDX-License-Identifier: MIT */
/*
 * tree-try OP ARGS...: performs exactly one system call on the zapfs tree and
 * reports its outcome on stdout: "OK" or the errno's name ("EADDRINUSE").
 * Shell tests compare that word; coreutils would hide the errno behind a
 * message in the locale's words, and `touch` or `mv` make several calls.
 *
 *   tree-try create PATH           open(O_CREAT|O_WRONLY) + close (touch)
 *   tree-try mkdir PATH            mkdir (mode 0755)
 *   tree-try rmdir PATH
 *   tree-try unlink PATH           (rm)
 *   tree-try rename OLD NEW        (mv OLD NEW, NEW the full target name)
 *   tree-try link OLD NEW          (ln OLD NEW)
 *   tree-try symlink TARGET PATH   (ln -s TARGET PATH)
 *
 * Exits 0 whatever the outcome; 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int try_create(const char *path)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	/* A FUSE filesystem may refuse only at flush or release: report it. */
	if (close(fd) < 0)
		return -errno;
	return 0;
}

static int try_one(const char *op, int nargs, char **args)
{
	if (nargs == 1) {
		if (!strcmp(op, "create"))
			return try_create(args[0]);
		if (!strcmp(op, "mkdir"))
			return mkdir(args[0], 0755) < 0 ? -errno : 0;
		if (!strcmp(op, "rmdir"))
			return rmdir(args[0]) < 0 ? -errno : 0;
		if (!strcmp(op, "unlink"))
			return unlink(args[0]) < 0 ? -errno : 0;
	} else if (nargs == 2) {
		if (!strcmp(op, "rename"))
			return rename(args[0], args[1]) < 0 ? -errno : 0;
		if (!strcmp(op, "link"))
			return link(args[0], args[1]) < 0 ? -errno : 0;
		if (!strcmp(op, "symlink"))
			return symlink(args[0], args[1]) < 0 ? -errno : 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	const char *name;
	int r;

	if (argc < 3) {
		fprintf(stderr, "usage: tree-try create|mkdir|rmdir|unlink PATH\n"
				"       tree-try rename|link OLD NEW\n"
				"       tree-try symlink TARGET PATH\n");
		return 2;
	}
	r = try_one(argv[1], argc - 2, argv + 2);
	if (r > 0) {
		fprintf(stderr, "tree-try: bad operation or argument count: %s\n", argv[1]);
		return 2;
	}
	if (r == 0) {
		printf("OK\n");
		return 0;
	}
	name = strerrorname_np(-r);
	if (name)
		printf("%s\n", name);
	else
		printf("errno %d\n", -r);
	return 0;
}
