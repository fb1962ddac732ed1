/* main_content.c — being written. */
#include "main_content.h"
