/* render_screenshot.c — the /screenshot route (being written). */
#include "handlers.h"
#include "request.h"
#include "respond.h"

void
handle_screenshot(struct request *r)
{
    respond_error(r, "not_found", "/screenshot is not implemented yet");
}
