#ifndef SQBACKUP_CCURL_SHIM_H
#define SQBACKUP_CCURL_SHIM_H
#include <curl/curl.h>
#endif
