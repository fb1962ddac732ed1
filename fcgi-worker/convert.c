/* convert.c — being written. */
#include "convert.h"
