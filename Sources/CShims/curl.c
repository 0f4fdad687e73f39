#include "CShims.h"

CURLcode sqb_curl_easy_setopt_long(CURL *h, CURLoption o, long v) { return curl_easy_setopt(h, o, v); }
CURLcode sqb_curl_easy_setopt_off(CURL *h, CURLoption o, curl_off_t v) { return curl_easy_setopt(h, o, v); }
CURLcode sqb_curl_easy_setopt_ptr(CURL *h, CURLoption o, const void *v) { return curl_easy_setopt(h, o, v); }
CURLcode sqb_curl_easy_setopt_write_fn(CURL *h, curl_write_callback f) { return curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, f); }
CURLcode sqb_curl_easy_setopt_header_fn(CURL *h, curl_write_callback f) { return curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, f); }
CURLcode sqb_curl_easy_setopt_read_fn(CURL *h, curl_read_callback f) { return curl_easy_setopt(h, CURLOPT_READFUNCTION, f); }
CURLcode sqb_curl_easy_setopt_xferinfo_fn(CURL *h, curl_xferinfo_callback f) { return curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, f); }
CURLcode sqb_curl_easy_getinfo_long(CURL *h, CURLINFO i, long *o) { return curl_easy_getinfo(h, i, o); }
CURLcode sqb_curl_easy_getinfo_off(CURL *h, CURLINFO i, curl_off_t *o) { return curl_easy_getinfo(h, i, o); }
CURLcode sqb_curl_easy_getinfo_double(CURL *h, CURLINFO i, double *o) { return curl_easy_getinfo(h, i, o); }
CURLcode sqb_curl_easy_getinfo_ptr(CURL *h, CURLINFO i, void **o) { return curl_easy_getinfo(h, i, o); }
CURLMcode sqb_curl_multi_setopt_long(CURLM *h, CURLMoption o, long v) { return curl_multi_setopt(h, o, v); }
CURLSHcode sqb_curl_share_setopt_long(CURLSH *h, CURLSHoption o, long v) { return curl_share_setopt(h, o, v); }
CURLSHcode sqb_curl_share_setopt_ptr(CURLSH *h, CURLSHoption o, const void *v) { return curl_share_setopt(h, o, v); }
