/* A "compiler" that misbehaves, for the sandbox's tests: what it does
 * depends on the name it runs under. The real compilers cannot be made to
 * open sockets, fork without end or allocate without bound from a request
 * the server accepts, so the tests serve this one as a toolchain. Each
 * prints what failed and exits 1; should everything it tries succeed, it
 * writes out.o and exits 0, which the tests take as an escape. Each bound
 * is small enough for the machine to bear when the sandbox does not hold:
 * 1000 processes, 768 MiB, 5 s of CPU, 16 MiB of file.
 *
 * The slot tests use the rest: evil-litter leaves files in every writable
 * place of the sandbox, a message queue and a process that lives on;
 * evil-peek, the next job in the same slot, lists what it sees there;
 * evil-killinit signals the slot's PID 1 and evil-trace tries to take it
 * over (ptrace, or its memory through /proc); evil-ipc leaves a System V
 * shared memory segment; evil-sleep outlives its time limit. */
#include <dirent.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
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

/* peek_dir reports each entry of dir: 1 when there is one. */
static int peek_dir(const char *dir) {
	DIR *d = opendir(dir);
	struct dirent *e;
	int found = 0;
	if (!d) return 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
		fprintf(stderr, "evil: saw %s/%s\n", dir, e->d_name);
		found = 1;
	}
	closedir(d);
	return found;
}

/* peek_procs reports every process but PID 1 and this one. */
static int peek_procs(void) {
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	if (!d) return 0;
	while ((e = readdir(d)) != NULL) {
		int pid = atoi(e->d_name);
		if (pid > 1 && pid != getpid()) {
			fprintf(stderr, "evil: saw process %d\n", pid);
			found = 1;
		}
	}
	closedir(d);
	return found;
}

/* peek_shm reports System V shared memory segments (a header line, then
 * one line each). */
static int peek_shm(void) {
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	int n = 0;
	if (!f) return 0;
	while (fgets(line, sizeof line, f)) n++;
	fclose(f);
	if (n > 1) fprintf(stderr, "evil: saw %d shared memory segments\n", n - 1);
	return n > 1;
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
			/* One byte a MiB: real pages, without spending the CPU
			   limit on zeroing 256 MiB on a slow machine. */
			for (size_t i = 0; i < chunk; i += 1 << 20)
				p[i] = 1;
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
	if (strcmp(name, "evil-litter") == 0) {
		struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 16};
		mqd_t q = mq_open("/dcc-litter", O_CREAT | O_RDWR, 0600, &attr);
		int failed = try_write("/tmp/dcc-litter") + try_write("/dev/shm/dcc-litter");
		if (q == (mqd_t)-1) {
			fprintf(stderr, "evil: mq_open: %s\n", strerror(errno));
			failed++;
		}
		/* A directory it cannot empty itself once it has locked it. */
		if (mkdir("/tmp/locked", 0700) != 0 || try_write("/tmp/locked/f") || chmod("/tmp/locked", 0)) failed++;
		pid_t p = fork();
		if (p == 0) {
			setsid();
			for (;;) {
				try_write("/tmp/dcc-lingered");
				sleep(1);
			}
		}
		return failed ? 1 : done();
	}
	if (strcmp(name, "evil-peek") == 0) {
		/* Prints all it sees: the tests compare it with a fresh slot's. */
		peek_dir("/tmp"), peek_dir("/dev/shm"), peek_dir("/dev/mqueue"), peek_procs(), peek_shm();
		return done();
	}
	if (strcmp(name, "evil-killinit") == 0) {
		int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGSEGV, SIGUSR1, SIGPIPE};
		for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) kill(1, sigs[i]);
		return done();
	}
	if (strcmp(name, "evil-trace") == 0) {
		int failed = 0;
		int fd = open("/proc/1/mem", O_RDWR);
		if (fd < 0) {
			fprintf(stderr, "evil: open /proc/1/mem: %s\n", strerror(errno));
			failed++;
		}
		if (ptrace(PTRACE_ATTACH, 1, 0, 0) != 0) {
			fprintf(stderr, "evil: ptrace 1: %s\n", strerror(errno));
			failed++;
		}
		return failed == 2 ? 1 : done();
	}
	if (strcmp(name, "evil-ipc") == 0) {
		if (shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600) < 0) {
			fprintf(stderr, "evil: shmget: %s\n", strerror(errno));
			return 1;
		}
		return done();
	}
	if (strcmp(name, "evil-sleep") == 0) {
		sleep(60);
		return done();
	}
	fprintf(stderr, "evil: unknown name %s\n", name);
	return 2;
}
