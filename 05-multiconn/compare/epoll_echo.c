/*
 * epoll_echo: an echo server in C over epoll, to measure multiconn-server
 * against (see compare/run.sh and the chapter's README). It is the practical
 * floor on Linux: one thread, one epoll loop, non-blocking sockets, and as
 * few system calls per message as an echo allows.
 *
 *     cc -O2 -Wall -Wextra -o epoll_echo compare/epoll_echo.c
 *     ./epoll_echo 65433        (port 0: any free port)
 *
 * It listens on 127.0.0.1, prints "listening on 127.0.0.1:PORT", and echoes
 * everything every client sends, until SIGINT or SIGTERM. It prints nothing
 * per connection, so that printing does not count in a load test.
 *
 * The loop is level-triggered: epoll reports a socket for as long as
 * there is something to read on it. For each one it reports, the loop reads
 * once, into the connection's buffer, and writes what it read back. If the
 * client does not take all of it, the rest waits in the buffer, and the
 * loop stops reading from that client (EPOLLOUT instead of EPOLLIN) until
 * the rest has gone: a client that sends without reading cannot make the
 * server hold more than one buffer for it.
 *
 * Linux only (epoll). C99 with POSIX.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* The same size as the Go server's big buffer. */
#define BUF_SIZE (64 * 1024)
#define MAX_EVENTS 256

/* One connection's state: the tutorial's SimpleNamespace. */
struct conn {
	int fd;
	size_t len; /* bytes in buf */
	size_t off; /* of which this many are written back already */
	char buf[BUF_SIZE];
};

/* Set by SIGINT or SIGTERM: the loop ends at its next turn. */
static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int set_nonblocking(int fd)
{
	int flags = fcntl(fd, F_GETFL, 0);
	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* close_conn closes c's socket, which also takes it out of the epoll set. */
static void close_conn(struct conn *c)
{
	close(c->fd);
	free(c);
}

/* watch makes epoll report c when it is readable (EPOLLIN) or when it can
 * take more of the echo (EPOLLOUT). */
static int watch(int ep, struct conn *c, unsigned events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};
	return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* accept_all accepts every client waiting on the listening socket lfd. */
static void accept_all(int ep, int lfd)
{
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			/* EAGAIN: nobody else is waiting. Anything else, such as
			 * EMFILE (out of descriptors), leaves the client in the
			 * queue, and the next turn of the loop tries again; a real
			 * server would pause first, as multiconn-server does. */
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				perror("accept");
			return;
		}
		/* Go sets TCP_NODELAY on every connection; so does this server,
		 * so that small echoes leave at once in both. */
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = malloc(sizeof *c);
		if (c == NULL || set_nonblocking(fd) < 0) {
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->len = c->off = 0;
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			close_conn(c);
	}
}

/* flush writes back what is left of c's buffer. It returns 1 when all of it
 * has gone, 0 when the client's socket is full, -1 when the connection is
 * broken. */
static int flush(struct conn *c)
{
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		c->off += (size_t)n;
	}
	c->len = c->off = 0;
	return 1;
}

/* serve handles what epoll reported for c: data to echo, or room for the
 * rest of an echo. */
static void serve(int ep, struct conn *c, unsigned events)
{
	if (c->len == 0) { /* reading: the buffer is empty */
		ssize_t n = recv(c->fd, c->buf, sizeof c->buf, 0);
		if (n == 0) { /* the client closed its side: done */
			close_conn(c);
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				close_conn(c); /* ECONNRESET, say */
			return;
		}
		c->len = (size_t)n;
		switch (flush(c)) {
		case 1:
			return; /* all echoed: keep reading */
		case 0:
			/* Echo the rest when the client has read some, and read
			 * nothing more from it until then. */
			if (watch(ep, c, EPOLLOUT) < 0)
				close_conn(c);
			return;
		default:
			close_conn(c);
			return;
		}
	}
	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) { /* writing the rest */
		switch (flush(c)) {
		case 1:
			if (watch(ep, c, EPOLLIN) < 0)
				close_conn(c);
			return;
		case 0:
			return; /* still full: wait for the next EPOLLOUT */
		default:
			close_conn(c);
			return;
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	char *end;
	long port = strtol(argv[1], &end, 10);
	if (*argv[1] == '\0' || *end != '\0' || port < 0 || port > 65535) {
		fprintf(stderr, "%s: PORT must be a number from 0 to 65535; got \"%s\"\n", argv[0], argv[1]);
		return 2;
	}

	/* SIGINT and SIGTERM stop the server. They are blocked except while
	 * the loop waits in epoll_pwait, which unblocks them for as long as it
	 * waits: a signal then ends the wait (EINTR) and the loop sees
	 * stopping set. One that came while the loop was busy waits until
	 * then, instead of slipping in between the test of stopping and the
	 * wait, where it would be noticed only at the next event. */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigset_t stop_signals, while_waiting;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_signals, &while_waiting);

	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		die("socket");
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in addr;
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0)
		die("bind");
	if (listen(lfd, SOMAXCONN) < 0 || set_nonblocking(lfd) < 0)
		die("listen");
	socklen_t len = sizeof addr;
	if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0)
		die("getsockname");
	printf("listening on 127.0.0.1:%d\n", ntohs(addr.sin_port));
	fflush(stdout);

	int ep = epoll_create1(0);
	if (ep < 0)
		die("epoll_create1");
	/* The listening socket is the one entry whose data is NULL. */
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl");

	struct epoll_event events[MAX_EVENTS];
	while (!stopping) {
		int n = epoll_pwait(ep, events, MAX_EVENTS, -1, &while_waiting);
		if (n < 0) {
			if (errno == EINTR)
				continue; /* a signal: stopping says whether to go on */
			die("epoll_pwait");
		}
		for (int i = 0; i < n; i++) {
			if (events[i].data.ptr == NULL)
				accept_all(ep, lfd);
			else
				serve(ep, events[i].data.ptr, events[i].events);
		}
	}
	/* The connections still open go with the process. */
	printf("server stopped\n");
	return 0;
}
