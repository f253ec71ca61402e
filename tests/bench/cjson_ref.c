/*
 * Reference for the benchmark: "cJSON parse both + print one (no merge)".
 *
 *     cjson-ref OURS THEIRS OUT
 *
 * Parses both sides with cJSON (a JSON array as one value; JSONL one value
 * per line, collected into an array), then prints the tree of OURS
 * unformatted to OUT. It does no merge at all: it is the floor for a program
 * that has to read two files into cJSON trees and write one back.
 *
 * Built by tests/bench/run.sh against the installed libcjson-dev.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	size_t alloc = 0, used = 0;

	if (!f) {
		perror(path);
		exit(1);
	}
	for (;;) {
		size_t n;

		if (alloc - used < 65536) {
			alloc = alloc ? alloc * 2 : 1 << 20;
			data = realloc(data, alloc + 1);
			if (!data) {
				fputs("cjson-ref: out of memory\n", stderr);
				exit(1);
			}
		}
		n = fread(data + used, 1, alloc - used, f);
		used += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		perror(path);
		exit(1);
	}
	fclose(f);
	data[used] = '\0';
	*len = used;
	return data;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static cJSON *parse_file(const char *path)
{
	size_t len, i = 0;
	char *data = slurp(path, &len);
	cJSON *root;

	while (i < len && is_space(data[i]))
		i++;
	if (i < len && data[i] == '[') {
		root = cJSON_ParseWithLength(data, len);
	} else {
		root = cJSON_CreateArray();
		while (root && i < len) {
			const char *end = NULL;
			cJSON *item;

			item = cJSON_ParseWithLengthOpts(data + i, len - i, &end, 0);
			if (!item) {
				cJSON_Delete(root);
				root = NULL;
				break;
			}
			cJSON_AddItemToArray(root, item);
			i = (size_t)(end - data);
			while (i < len && is_space(data[i]))
				i++;
		}
	}
	free(data);
	if (!root) {
		fprintf(stderr, "cjson-ref: %s: parse error\n", path);
		exit(1);
	}
	return root;
}

int main(int argc, char **argv)
{
	cJSON *ours, *theirs;
	char *text;
	FILE *out;

	if (argc != 4) {
		fputs("usage: cjson-ref OURS THEIRS OUT\n", stderr);
		return 2;
	}
	ours = parse_file(argv[1]);
	theirs = parse_file(argv[2]);
	text = cJSON_PrintUnformatted(ours);
	if (!text) {
		fputs("cjson-ref: out of memory\n", stderr);
		return 1;
	}
	out = fopen(argv[3], "wb");
	if (!out || fputs(text, out) == EOF || fputc('\n', out) == EOF ||
	    fclose(out) != 0) {
		perror(argv[3]);
		return 1;
	}
	free(text);
	cJSON_Delete(ours);
	cJSON_Delete(theirs);
	return 0;
}
