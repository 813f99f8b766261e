// Declarations only (include/cfuzz.h): libFuzzer's runtime defines them in the fuzz build.
#include "cfuzz.h"
