/* rc.c — names for the result codes of rc.h, for log lines. */
#include "rc.h"

const char *
rc_name(int rc)
{
    switch (rc) {
    case RC_OK: return "ok";
    case RC_ERROR: return "error";
    case RC_BUSY: return "busy";
    case RC_TIMEOUT: return "timeout";
    case RC_BLOCKED: return "blocked";
    case RC_DECLINED: return "declined";
    case RC_CLOSED: return "closed";
    case RC_INVALID: return "invalid";
    case RC_TOO_LARGE: return "too large";
    case RC_NOT_FOUND: return "not found";
    }
    return "unknown";
}
