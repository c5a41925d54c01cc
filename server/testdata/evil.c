/* A "compiler" that misbehaves, for the sandbox's tests: what it does
 * depends on the name it runs under. The real compilers cannot be made to
 * open sockets, fork without end or allocate without bound from a request
 * the server accepts, so the tests serve this one as a toolchain. Each
 * prints what failed and exits 1; should everything it tries succeed, it
 * writes out.o and exits 0, which the tests take as an escape. Each bound
 * is small enough for the machine to bear when the sandbox does not hold:
 * 1000 processes, 768 MiB, 5 s of CPU, 16 MiB of file. */
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PORT
#define PORT 9
#endif
#ifndef SECRET
#define SECRET "/etc/shadow"
#endif
#ifndef TARGET
#define TARGET "/tmp/dcc-evil-target"
#endif

static int done(void) {
	int fd = open("out.o", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) close(fd);
	return 0;
}

static int try_write(const char *path) {
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		fprintf(stderr, "evil: write %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (write(fd, "escaped\n", 8) != 8) {
		fprintf(stderr, "evil: write %s: %s\n", path, strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv) {
	const char *name = strrchr(argv[0], '/');
	name = name ? name + 1 : argv[0];
	(void)argc;
	if (strcmp(name, "evil-write") == 0) {
		int failed = try_write(TARGET) + try_write("/usr/dcc-evil") + try_write("/dcc-evil");
		return failed ? 1 : done();
	}
	if (strcmp(name, "evil-socket") == 0) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0) {
			fprintf(stderr, "evil: socket: %s\n", strerror(errno));
			return 1;
		}
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT)};
		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
			fprintf(stderr, "evil: connect 127.0.0.1:%d: %s\n", PORT, strerror(errno));
			return 1;
		}
		write(s, "escaped\n", 8);
		return done();
	}
	if (strcmp(name, "evil-fork") == 0) {
		for (int n = 0; n < 1000; n++) {
			pid_t p = fork();
			if (p < 0) {
				fprintf(stderr, "evil: fork failed after %d children: %s\n", n, strerror(errno));
				return 1;
			}
			if (p == 0) {
				for (;;) pause();
			}
		}
		return done();
	}
	if (strcmp(name, "evil-alloc") == 0) {
		size_t chunk = 64 << 20, total = 0;
		for (int n = 0; n < 12; n++) {
			char *p = malloc(chunk);
			if (!p) {
				fprintf(stderr, "evil: allocation failed after %zu MiB\n", total >> 20);
				return 1;
			}
			memset(p, 1, chunk);
			total += chunk;
		}
		return done();
	}
	if (strcmp(name, "evil-cpu") == 0) {
		/* 5 s of its own CPU time, however busy the machine. */
		struct timespec ts;
		do {
			clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		} while (ts.tv_sec < 5);
		return done();
	}
	if (strcmp(name, "evil-fsize") == 0) {
		static char buf[1 << 20];
		int fd = open("big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		for (int n = 0; n < 16; n++) {
			if (write(fd, buf, sizeof buf) < 0) {
				fprintf(stderr, "evil: write big: %s\n", strerror(errno));
				return 1;
			}
		}
		return done();
	}
	if (strcmp(name, "evil-symlink") == 0) {
		/* The server reads out.o: let it follow a link to a host file. */
		return symlink(SECRET, "out.o") == 0 ? 0 : 1;
	}
	if (strcmp(name, "evil-fifo") == 0) {
		/* The server reads out.o: let it wait for a writer forever. */
		return mkfifo("out.o", 0644) == 0 ? 0 : 1;
	}
	fprintf(stderr, "evil: unknown name %s\n", name);
	return 2;
}
