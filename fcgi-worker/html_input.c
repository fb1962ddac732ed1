/* html_input.c — deciding an HTML document's encoding and converting it to
 * UTF-8 for gumbo, the way a browser would read the same bytes.
 *
 * The order is the HTML standard's: a byte order mark, then the charset the
 * transport declared, then the <meta> prescan of the first 1024 bytes, then
 * a guess. Our guess is UTF-8 when the bytes are valid UTF-8 and
 * windows-1252 otherwise (what browsers do for Western locales). Labels are
 * mapped the way the Encoding standard maps them where glibc's iconv would
 * differ (ISO-8859-1 and US-ASCII are read as windows-1252, Shift_JIS as
 * CP932, EUC-KR as CP949, GB2312 as GBK); any other label is handed to
 * iconv as is. Bytes that are invalid in the chosen encoding become U+FFFD,
 * one per bad byte (two for UTF-16). */
#include "html_input.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rc.h"

#define PRESCAN_BYTES 1024

/* Labels whose meaning in the Encoding standard is not iconv's. */
static const struct {
    const char *label;
    const char *iconv;
} label_map[] = {
    {"utf-8", "UTF-8"},
    {"utf8", "UTF-8"},
    {"unicode-1-1-utf-8", "UTF-8"},
    {"iso-8859-1", "WINDOWS-1252"},
    {"iso8859-1", "WINDOWS-1252"},
    {"iso_8859-1", "WINDOWS-1252"},
    {"iso_8859-1:1987", "WINDOWS-1252"},
    {"latin1", "WINDOWS-1252"},
    {"l1", "WINDOWS-1252"},
    {"ascii", "WINDOWS-1252"},
    {"us-ascii", "WINDOWS-1252"},
    {"ansi_x3.4-1968", "WINDOWS-1252"},
    {"cp819", "WINDOWS-1252"},
    {"ibm819", "WINDOWS-1252"},
    {"iso-ir-100", "WINDOWS-1252"},
    {"csisolatin1", "WINDOWS-1252"},
    {"windows-1252", "WINDOWS-1252"},
    {"cp1252", "WINDOWS-1252"},
    {"x-cp1252", "WINDOWS-1252"},
    {"iso-8859-9", "WINDOWS-1254"},
    {"iso8859-9", "WINDOWS-1254"},
    {"latin5", "WINDOWS-1254"},
    {"iso-8859-11", "WINDOWS-874"},
    {"tis-620", "WINDOWS-874"},
    {"shift_jis", "CP932"},
    {"shift-jis", "CP932"},
    {"sjis", "CP932"},
    {"x-sjis", "CP932"},
    {"ms_kanji", "CP932"},
    {"windows-31j", "CP932"},
    {"euc-kr", "CP949"},
    {"ks_c_5601-1987", "CP949"},
    {"windows-949", "CP949"},
    {"gb2312", "GBK"},
    {"gbk", "GBK"},
    {"x-gbk", "GBK"},
    {"chinese", "GBK"},
    {"big5", "BIG5-HKSCS"},
    {"x-x-big5", "BIG5-HKSCS"},
    {"utf-16", "UTF-16LE"},
    {"utf-16le", "UTF-16LE"},
    {"utf-16be", "UTF-16BE"},
    {"x-user-defined", "WINDOWS-1252"},
};

static int
is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static unsigned char
lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* The iconv name for a label, into 'name'. 0 when the label cannot be one
 * (empty, too long, or with characters no encoding name has). */
static int
label_to_iconv(const char *label, char *name, size_t size)
{
    char low[40];
    size_t n = 0, i;

    while (is_space((unsigned char)*label))
        label++;
    for (; label[n] != '\0' && !is_space((unsigned char)label[n]); n++) {
        unsigned char c = (unsigned char)label[n];
        if (n + 1 >= sizeof low || n + 1 >= size)
            return 0;
        if (!(c >= '0' && c <= '9') && !(lower(c) >= 'a' && lower(c) <= 'z') && c != '-' &&
            c != '_' && c != '.' && c != ':')
            return 0;
        low[n] = (char)lower(c);
    }
    for (i = n; label[i] != '\0'; i++)
        if (!is_space((unsigned char)label[i]))
            return 0;
    if (n == 0)
        return 0;
    low[n] = '\0';
    for (i = 0; i < sizeof label_map / sizeof label_map[0]; i++) {
        if (strcmp(low, label_map[i].label) == 0) {
            snprintf(name, size, "%s", label_map[i].iconv);
            return 1;
        }
    }
    for (i = 0; i <= n; i++)
        name[i] = (char)((low[i] >= 'a' && low[i] <= 'z') ? low[i] - 'a' + 'A' : low[i]);
    return 1;
}

static int
iconv_knows(const char *name)
{
    iconv_t cd = iconv_open("UTF-8", name);

    if (cd == (iconv_t)-1)
        return 0;
    iconv_close(cd);
    return 1;
}

/* Whether 's' is valid UTF-8. A sequence cut short by the end of the input
 * counts as valid: a truncated download is still UTF-8. */
static int
utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        uint64_t w;
        unsigned cp, min;
        size_t k, j;
        unsigned char c;

        if (n - i >= 8) {
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            k = 1, cp = c & 0x1F, min = 0x80;
        } else if (c >= 0xE0 && c <= 0xEF) {
            k = 2, cp = c & 0x0F, min = 0x800;
        } else if (c >= 0xF0 && c <= 0xF4) {
            k = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        for (j = 1; j <= k; j++) {
            if (i + j >= n)
                return 1;
            if ((s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

/* The WHATWG "get an attribute" step of the prescan: one name=value pair
 * from 's' at *pos, lower-cased, into the caller's buffers (truncated to
 * their size). Returns 0 at '>' or the end. */
static int
prescan_attr(const char *s, size_t n, size_t *pos, char *name, size_t nsize, char *value,
             size_t vsize)
{
    size_t i = *pos, nl = 0, vl = 0;
    unsigned char c;

    while (i < n && (is_space((unsigned char)s[i]) || s[i] == '/'))
        i++;
    if (i >= n || s[i] == '>') {
        *pos = i;
        return 0;
    }
    for (;;) {
        if (i >= n)
            goto out;
        c = (unsigned char)s[i];
        if (c == '=' && nl > 0) {
            i++;
            break;
        }
        if (is_space(c)) {
            while (i < n && is_space((unsigned char)s[i]))
                i++;
            if (i >= n || s[i] != '=')
                goto out;
            i++;
            break;
        }
        if (c == '/' || c == '>')
            goto out;
        if (nl + 1 < nsize)
            name[nl++] = (char)lower(c);
        i++;
    }
    while (i < n && is_space((unsigned char)s[i]))
        i++;
    if (i < n && (s[i] == '"' || s[i] == '\'')) {
        char q = s[i++];
        while (i < n && s[i] != q) {
            if (vl + 1 < vsize)
                value[vl++] = (char)lower((unsigned char)s[i]);
            i++;
        }
        if (i < n)
            i++;
    } else {
        while (i < n && !is_space((unsigned char)s[i]) && s[i] != '>') {
            if (vl + 1 < vsize)
                value[vl++] = (char)lower((unsigned char)s[i]);
            i++;
        }
    }
out:
    name[nl] = '\0';
    value[vl] = '\0';
    *pos = i;
    return 1;
}

/* "Extract a character encoding from a meta element": the charset=
 * parameter of a Content-Type value. */
static int
content_charset(const char *v, char *label, size_t size)
{
    const char *p = v;

    while ((p = strstr(p, "charset")) != NULL) {
        p += 7;
        while (is_space((unsigned char)*p))
            p++;
        if (*p != '=')
            continue;
        p++;
        while (is_space((unsigned char)*p))
            p++;
        const char *end;
        if (*p == '"' || *p == '\'') {
            if ((end = strchr(p + 1, *p)) == NULL)
                return 0;
            p++;
        } else {
            for (end = p; *end && !is_space((unsigned char)*end) && *end != ';'; end++)
                ;
        }
        if (end == p || (size_t)(end - p) >= size)
            return 0;
        memcpy(label, p, (size_t)(end - p));
        label[end - p] = '\0';
        return 1;
    }
    return 0;
}

int
html_input_meta_charset(const char *s, size_t n, char *label, size_t size)
{
    char name[32], value[256], cs[64];
    size_t i = 0;

    if (n > PRESCAN_BYTES)
        n = PRESCAN_BYTES;
    while (i < n) {
        if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
            const char *end = memmem(s + i + 2, n - i - 2, "-->", 3);
            if (end == NULL)
                return 0;
            i = (size_t)(end - s) + 3;
            continue;
        }
        if (n - i >= 6 && strncasecmp(s + i, "<meta", 5) == 0 &&
            (is_space((unsigned char)s[i + 5]) || s[i + 5] == '/')) {
            int got_pragma = 0, need_pragma = -1, seen_he = 0, seen_content = 0, seen_cs = 0;
            cs[0] = '\0';
            i += 5;
            while (prescan_attr(s, n, &i, name, sizeof name, value, sizeof value)) {
                if (strcmp(name, "http-equiv") == 0 && !seen_he) {
                    seen_he = 1;
                    got_pragma = strcmp(value, "content-type") == 0;
                } else if (strcmp(name, "content") == 0 && !seen_content) {
                    seen_content = 1;
                    if (cs[0] == '\0' && content_charset(value, cs, sizeof cs))
                        need_pragma = 1;
                } else if (strcmp(name, "charset") == 0 && !seen_cs) {
                    seen_cs = 1;
                    if (strlen(value) < sizeof cs) {
                        memcpy(cs, value, strlen(value) + 1);
                        need_pragma = 0;
                    }
                }
            }
            if (need_pragma == -1 || (need_pragma == 1 && !got_pragma) || cs[0] == '\0') {
                i++;
                continue;
            }
            /* A <meta> cannot really declare UTF-16: the bytes so far were
             * ASCII-compatible, so the standard reads them as UTF-8. */
            if (strncmp(cs, "utf-16", 6) == 0)
                snprintf(cs, sizeof cs, "utf-8");
            snprintf(label, size, "%s", cs);
            return 1;
        }
        if (s[i] == '<' && n - i >= 2 &&
            (lower((unsigned char)s[i + 1]) >= 'a' && lower((unsigned char)s[i + 1]) <= 'z')) {
            while (i < n && !is_space((unsigned char)s[i]) && s[i] != '>')
                i++;
            while (prescan_attr(s, n, &i, name, sizeof name, value, sizeof value))
                ;
        } else if (s[i] == '<' && n - i >= 3 && s[i + 1] == '/' &&
                   lower((unsigned char)s[i + 2]) >= 'a' &&
                   lower((unsigned char)s[i + 2]) <= 'z') {
            while (i < n && !is_space((unsigned char)s[i]) && s[i] != '>')
                i++;
            while (prescan_attr(s, n, &i, name, sizeof name, value, sizeof value))
                ;
        } else if (s[i] == '<' && n - i >= 2 &&
                   (s[i + 1] == '!' || s[i + 1] == '/' || s[i + 1] == '?')) {
            const char *gt = memchr(s + i, '>', n - i);
            if (gt == NULL)
                return 0;
            i = (size_t)(gt - s);
        }
        i++;
    }
    return 0;
}

/* Convert with iconv into a new buffer owned by 'in'. 'unit' is the size
 * of the code unit to skip over a byte sequence iconv rejects. */
static int
convert(const char *from, const char *src, size_t len, size_t unit, struct html_input *in)
{
    static const char replacement[] = "\xEF\xBF\xBD";
    iconv_t cd;
    char *dst = NULL, *ip = (char *)src, *op;
    size_t cap = len + len / 2 + 64, used = 0, ileft = len, oleft;
    int flushed = 0;

    if ((cd = iconv_open("UTF-8", from)) == (iconv_t)-1)
        return RC_INVALID;
    if ((dst = malloc(cap)) == NULL)
        goto fail;
    for (;;) {
        size_t r;

        op = dst + used;
        oleft = cap - used - 1; /* room for the NUL */
        if (ileft > 0)
            r = iconv(cd, &ip, &ileft, &op, &oleft);
        else
            r = iconv(cd, NULL, NULL, &op, &oleft); /* shift back to the initial state */
        used = (size_t)(op - dst);
        if (r != (size_t)-1) {
            if (ileft == 0 && flushed)
                break;
            if (ileft == 0)
                flushed = 1;
            continue;
        }
        if (errno == E2BIG || cap - used - 1 < sizeof replacement) {
            char *bigger;
            if (cap > SIZE_MAX / 2 || (bigger = realloc(dst, cap * 2)) == NULL)
                goto fail;
            dst = bigger;
            cap *= 2;
            continue;
        }
        if (errno != EILSEQ && errno != EINVAL)
            goto fail;
        /* A byte sequence that is invalid, or cut short at the end. */
        memcpy(dst + used, replacement, 3);
        used += 3;
        if (errno == EINVAL || ileft <= unit) {
            ip += ileft;
            ileft = 0;
        } else {
            ip += unit;
            ileft -= unit;
        }
    }
    dst[used] = '\0';
    iconv_close(cd);
    in->owned = dst;
    in->data = dst;
    in->len = used;
    return RC_OK;
fail:
    free(dst);
    iconv_close(cd);
    return RC_ERROR;
}

int
html_input_decode(const char *html, size_t len, const char *declared, struct html_input *in)
{
    const unsigned char *u = (const unsigned char *)html;
    char label[64], name[40];
    size_t skip = 0;

    memset(in, 0, sizeof *in);
    in->data = html;
    in->len = len;
    name[0] = '\0';
    if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        snprintf(name, sizeof name, "UTF-8");
        skip = 3;
    } else if (len >= 2 && u[0] == 0xFE && u[1] == 0xFF) {
        snprintf(name, sizeof name, "UTF-16BE");
        skip = 2;
    } else if (len >= 2 && u[0] == 0xFF && u[1] == 0xFE) {
        snprintf(name, sizeof name, "UTF-16LE");
        skip = 2;
    } else if (declared != NULL) {
        if (!label_to_iconv(declared, name, sizeof name) || !iconv_knows(name))
            return RC_INVALID;
    } else if (html_input_meta_charset(html, len, label, sizeof label)) {
        if (!label_to_iconv(label, name, sizeof name) || !iconv_knows(name))
            name[0] = '\0';
    }
    if (name[0] == '\0')
        snprintf(name, sizeof name, "%s", utf8_valid(u, len) ? "UTF-8" : "WINDOWS-1252");
    snprintf(in->encoding, sizeof in->encoding, "%s", name);
    if (strcmp(name, "UTF-8") == 0) {
        in->data = html + skip;
        in->len = len - skip;
        return RC_OK;
    }
    return convert(name, html + skip, len - skip, strncmp(name, "UTF-16", 6) == 0 ? 2 : 1, in);
}

void
html_input_free(struct html_input *in)
{
    if (in == NULL)
        return;
    free(in->owned);
    in->owned = NULL;
    in->data = NULL;
    in->len = 0;
}
