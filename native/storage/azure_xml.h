/*
 * Internal: the little XML that Azure Blob answers with: List Blobs enumeration
 * results and error bodies. A strict, bounded tokenizer of our own (elements,
 * attributes, text, CDATA, comments, the five entities and character references);
 * anything else (DOCTYPE, unbalanced tags, truncation) is OB_ECORRUPT.
 */
#ifndef OB_NATIVE_AZURE_XML_H
#define OB_NATIVE_AZURE_XML_H

#include <stddef.h>
#include <stdint.h>

typedef struct ob_azure_list_entry {
	char *name;       /**< blob name, entities decoded */
	uint64_t size;    /**< Content-Length */
} ob_azure_list_entry;

typedef struct ob_azure_listing {
	ob_azure_list_entry *entries;
	size_t count;
	size_t cap;
	char *next_marker;  /**< NULL or "" at the end of the listing */
} ob_azure_listing;

/**
 * Parse one page of List Blobs results. The whole page is checked before anything
 * is returned: OB_ECORRUPT (with a message) for anything malformed. Blobs whose
 * name comes Encoded="true" are left out (they can't be obagent names).
 * Dispose with ob_azure_listing_dispose, also after a failure.
 */
int ob_azure_list_parse(ob_azure_listing *out, const char *xml, size_t len);
void ob_azure_listing_dispose(ob_azure_listing *l);

/**
 * The decoded text of the first element called element, malloc'd; NULL if absent
 * or malformed. May overwrite the last error: call it before reporting one.
 */
char *ob_azure_xml_text(const char *xml, size_t len, const char *element);

/** Internal tunable: maxresults of each List Blobs page (5000; tests lower it to see pagination). */
extern unsigned int ob_azure_list_page_size;

#endif
