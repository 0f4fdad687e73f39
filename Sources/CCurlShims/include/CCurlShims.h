#ifndef SQBACKUP_CCURLSHIMS_H
#define SQBACKUP_CCURLSHIMS_H
/* libcurl's setopt/getinfo calls are variadic and do not import into Swift: typed wrappers,
 * and a share handle whose lock callbacks live in C. */
#include <curl/curl.h>

CURLcode sqb_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode sqb_curl_easy_setopt_off(CURL *handle, CURLoption option, curl_off_t value);
CURLcode sqb_curl_easy_setopt_ptr(CURL *handle, CURLoption option, const void *value);
CURLcode sqb_curl_easy_setopt_write_fn(CURL *handle, curl_write_callback fn);
CURLcode sqb_curl_easy_setopt_header_fn(CURL *handle, curl_write_callback fn);
CURLcode sqb_curl_easy_setopt_xferinfo_fn(CURL *handle, curl_xferinfo_callback fn);
CURLcode sqb_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *out);

/* A share handle (DNS, TLS sessions and, if asked, connections) with pthread-mutex lock
 * callbacks, usable from many threads. Free with sqb_curl_share_free_locked. */
CURLSH *sqb_curl_share_new_locked(int share_connections, void **locks_out);
void sqb_curl_share_free_locked(CURLSH *share, void *locks);

#endif
