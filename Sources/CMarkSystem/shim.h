// CommonMark (Debian's libcmark-dev): Markdown cells rendered to HTML. Only Notebook imports it.
#pragma once
#include <cmark.h>
