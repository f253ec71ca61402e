/* The release, shown by --version; CHANGELOG.md says what changed. */
#ifndef VERSION_H
#define VERSION_H
#define CRDTMEM_VERSION "0.1.0"
#endif
