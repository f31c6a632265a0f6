/* SPDX-License-Identifier: MIT */
/*
 * try-write [-n] FILE DATA: what `echo DATA > FILE` does (one
 * open(O_WRONLY|O_TRUNC) and one write() of DATA plus a newline; -n: no
 * newline), but reports the outcome on stdout instead of failing: "OK", or
 * the errno's name ("EADDRINUSE"), or "SHORT <n>" for a partial write. Exits 0
 * whatever the outcome, so shell tests can compare the word; 2 on bad usage.
 */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void print_errno(int err)
{
	const char *name = strerrorname_np(err);

	if (name)
		printf("%s\n", name);
	else
		printf("errno %d\n", err);
}

int main(int argc, char **argv)
{
	bool newline = true;
	char *data;
	size_t len;
	ssize_t n;
	int fd;

	if (argc == 4 && !strcmp(argv[1], "-n")) {
		newline = false;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: try-write [-n] FILE DATA\n");
		return 2;
	}
	len = strlen(argv[2]);
	data = malloc(len + 2);
	if (!data)
		return 2;
	memcpy(data, argv[2], len);
	if (newline)
		data[len++] = '\n';

	fd = open(argv[1], O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0) {
		print_errno(errno);
		free(data);
		return 0;
	}
	n = write(fd, data, len);
	if (n < 0)
		print_errno(errno);
	else if ((size_t) n != len)
		printf("SHORT %zd\n", n);
	else
		printf("OK\n");
	close(fd);
	free(data);
	return 0;
}
