// Compiles and links against gorun the way a user's program does; see ../run_consumer.cmake.
#include <gorun/gorun.hpp>

int main() {
    return 0;
}
