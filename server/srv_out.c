/* Output helpers of crm-server's admin commands. */
#include "srv_out.h"

#include <stdio.h>
#include <stdlib.h>

#include "crm_utf8.h"

void srv_out_json(const cJSON *j)
{
	char *text = j ? cJSON_Print(j) : NULL;

	if (text)
		printf("%s\n", text);
	free(text);
}

void srv_out_padded(const char *s, size_t width)
{
	size_t w = crm_utf8_width(s);

	fputs(s, stdout);
	while (w++ < width)
		fputc(' ', stdout);
}
