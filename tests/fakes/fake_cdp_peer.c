/* fake_cdp_peer.c — a scripted browser for tests/unit/check_cdp.c.
 *
 * Plays Chromium's side of --remote-debugging-pipe: reads NUL-ended commands
 * on fd 3 and writes NUL-ended replies and events on fd 4, until EOF on fd 3.
 * The command's method is the script, so one peer serves a whole test:
 *
 *   Test.echo     reply {"result":{"method":M,"sessionId":S|null,"params":P|null}}
 *   Test.error    reply {"error":{"code":-32601,"message":"no such method"}}
 *   Test.events   emit a browser event, a session event (sessionId "S1") and
 *                 an event without params, then echo
 *   Test.multi    event + echo reply + event, all in one write()
 *   Test.partial  echo, written one byte per write() with a pause between
 *   Test.silent   emit Test.heard {"id":N}, never reply
 *   Test.hold     no reply now; it is sent just before the next reply (late)
 *   Test.reverse  params {"batch":K}: hold replies until K are held, then
 *                 send them all in reverse order
 *   Test.garbage  write a message that is not JSON
 *   Test.notcdp   write valid JSON that is neither a reply nor an event
 *   Test.huge     params {"size":N}: emit an event of more than N bytes
 *   Test.exit     exit at once, without replying
 *   anything else echo
 *
 * It reads the top-level keys of a command with a small scanner, enough for
 * what cdp.c sends (an object of strings, numbers and a params object). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define IN_FD 3
#define OUT_FD 4
#define MAX_HELD 64

struct span {
    const char *p;
    size_t len;
};

static char *held[MAX_HELD];
static size_t held_len[MAX_HELD];
static int nheld;

static void
die(const char *what)
{
    fprintf(stderr, "fake_cdp_peer: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void
write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(OUT_FD, p, len);
        if (n == -1) {
            if (errno == EINTR)
                continue;
            die("write");
        }
        p += n;
        len -= (size_t)n;
    }
}

/* Write one message and its NUL. */
static void
emit(const char *msg)
{
    write_all(msg, strlen(msg) + 1);
}

/* Skip one JSON value starting at 's'; returns the first byte after it. */
static const char *
skip_value(const char *s)
{
    int depth = 0;
    bool in_str = false;

    for (; *s != '\0'; s++) {
        if (in_str) {
            if (*s == '\\' && s[1] != '\0') {
                s++;
            } else if (*s == '"') {
                in_str = false;
                if (depth == 0)
                    return s + 1;
            }
        } else if (*s == '"') {
            in_str = true;
        } else if (*s == '{' || *s == '[') {
            depth++;
        } else if (*s == '}' || *s == ']') {
            if (depth == 0)
                return s;
            if (--depth == 0)
                return s + 1;
        } else if (*s == ',' && depth == 0) {
            return s;
        }
    }
    return s;
}

/* The raw text of top-level key 'key' of object 'msg', or a NULL span. */
static struct span
field(const char *msg, const char *key)
{
    struct span none = { NULL, 0 };
    const char *s = msg;

    if (*s++ != '{')
        return none;
    while (*s == '"') {
        const char *k = s + 1, *kend = skip_value(s) - 1, *v = kend + 2;
        const char *vend = skip_value(v);
        if (*(kend + 1) != ':')
            return none;
        if ((size_t)(kend - k) == strlen(key) && strncmp(k, key, (size_t)(kend - k)) == 0)
            return (struct span){ v, (size_t)(vend - v) };
        if (*vend != ',')
            break;
        s = vend + 1;
    }
    return none;
}

static bool
span_is(struct span s, const char *text)
{
    return s.p != NULL && s.len == strlen(text) && memcmp(s.p, text, s.len) == 0;
}

/* The integer value of "key" inside object span 'obj', or 'dflt'. */
static long
span_int(struct span obj, const char *key, long dflt)
{
    char *copy;
    struct span v;
    long n = dflt;

    if (obj.p == NULL || (copy = strndup(obj.p, obj.len)) == NULL)
        return dflt;
    v = field(copy, key);
    if (v.p != NULL)
        n = strtol(v.p, NULL, 10);
    free(copy);
    return n;
}

static char *
echo_reply(struct span id, struct span method, struct span sid, struct span params)
{
    char *out;

    if (asprintf(&out, "{\"id\":%.*s,\"result\":{\"method\":%.*s,\"sessionId\":%.*s,"
                       "\"params\":%.*s}}",
                 (int)id.len, id.p, (int)method.len, method.p,
                 sid.p ? (int)sid.len : 4, sid.p ? sid.p : "null",
                 params.p ? (int)params.len : 4, params.p ? params.p : "null") == -1)
        die("asprintf");
    return out;
}

static void
flush_held(void)
{
    for (int i = 0; i < nheld; i++) {
        write_all(held[i], held_len[i] + 1);
        free(held[i]);
    }
    nheld = 0;
}

static void
handle(const char *cmd)
{
    struct span id = field(cmd, "id"), method = field(cmd, "method");
    struct span sid = field(cmd, "sessionId"), params = field(cmd, "params");
    char *reply = NULL, tmp[256];

    if (id.p == NULL || method.p == NULL) {
        fprintf(stderr, "fake_cdp_peer: bad command: %s\n", cmd);
        exit(3);
    }
    if (span_is(method, "\"Test.exit\"")) {
        exit(0);
    } else if (span_is(method, "\"Test.silent\"")) {
        snprintf(tmp, sizeof(tmp), "{\"method\":\"Test.heard\",\"params\":{\"id\":%.*s}}",
                 (int)id.len, id.p);
        emit(tmp);
        return;
    } else if (span_is(method, "\"Test.hold\"") || span_is(method, "\"Test.reverse\"")) {
        long batch = span_int(params, "batch", 0);
        if (nheld == MAX_HELD)
            exit(4);
        held[nheld] = echo_reply(id, method, sid, params);
        held_len[nheld] = strlen(held[nheld]);
        nheld++;
        if (batch > 0 && nheld >= batch) {
            for (int i = 0, j = nheld - 1; i < j; i++, j--) {
                char *t = held[i];
                size_t tl = held_len[i];
                held[i] = held[j], held_len[i] = held_len[j];
                held[j] = t, held_len[j] = tl;
            }
            flush_held();
        }
        return;
    }

    /* Every other command is answered now; held late replies go first. */
    flush_held();
    if (span_is(method, "\"Test.error\"")) {
        snprintf(tmp, sizeof(tmp),
                 "{\"id\":%.*s,\"error\":{\"code\":-32601,\"message\":\"no such method\"}}",
                 (int)id.len, id.p);
        emit(tmp);
    } else if (span_is(method, "\"Test.garbage\"")) {
        emit("{\"id\":1,\"result\":{\"oops\"");
    } else if (span_is(method, "\"Test.notcdp\"")) {
        emit("{\"hello\":\"world\"}");
    } else if (span_is(method, "\"Test.huge\"")) {
        size_t size = (size_t)span_int(params, "size", 1024);
        char *big = malloc(size + 64);
        if (big == NULL)
            die("malloc");
        int n = sprintf(big, "{\"method\":\"Test.big\",\"params\":{\"s\":\"");
        memset(big + n, 'x', size);
        strcpy(big + n + size, "\"}}");
        emit(big);
        free(big);
    } else if (span_is(method, "\"Test.events\"")) {
        emit("{\"method\":\"Test.browserEvent\",\"params\":{\"n\":1}}");
        emit("{\"method\":\"Test.pageEvent\",\"params\":{\"n\":2},\"sessionId\":\"S1\"}");
        emit("{\"method\":\"Test.noParams\"}");
        reply = echo_reply(id, method, sid, params);
        emit(reply);
    } else if (span_is(method, "\"Test.multi\"")) {
        char *all;
        int n;
        reply = echo_reply(id, method, sid, params);
        n = asprintf(&all, "{\"method\":\"Test.before\"}%c%s%c{\"method\":\"Test.after\"}%c",
                     0, reply, 0, 0);
        if (n == -1)
            die("asprintf");
        write_all(all, (size_t)n);
        free(all);
    } else if (span_is(method, "\"Test.partial\"")) {
        const struct timespec pause = { 0, 200 * 1000 };
        reply = echo_reply(id, method, sid, params);
        for (size_t i = 0; i <= strlen(reply); i++) {
            write_all(reply + i, 1);
            nanosleep(&pause, NULL);
        }
    } else {
        reply = echo_reply(id, method, sid, params);
        emit(reply);
    }
    free(reply);
}

int
main(void)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);

    if (buf == NULL)
        die("malloc");
    for (;;) {
        ssize_t n;
        char *nul;

        if (len == cap && (buf = realloc(buf, cap *= 2)) == NULL)
            die("realloc");
        n = read(IN_FD, buf + len, cap - len);
        if (n == 0)
            break;
        if (n == -1) {
            if (errno == EINTR)
                continue;
            die("read");
        }
        len += (size_t)n;
        while ((nul = memchr(buf, '\0', len)) != NULL) {
            size_t used = (size_t)(nul - buf) + 1;
            handle(buf);
            memmove(buf, buf + used, len - used);
            len -= used;
        }
    }
    free(buf);
    return 0;
}
