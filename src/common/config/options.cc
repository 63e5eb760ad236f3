#include "common/config/options.h"

namespace strom::config {

namespace {
#define STROM_X(name, cpp_type, key, type, def, desc, enums) \
  const OptionSpec name##Spec{key, OptionType::type, def, desc, enums};
STROM_CONFIG_OPTIONS(STROM_X)
#undef STROM_X
}  // namespace

#define STROM_X(name, cpp_type, key, type, def, desc, enums) \
  const ConfigOption<cpp_type> name{&name##Spec};
STROM_CONFIG_OPTIONS(STROM_X)
#undef STROM_X

const std::vector<const OptionSpec*>& AllOptions() {
  static const std::vector<const OptionSpec*> all = {
#define STROM_X(name, cpp_type, key, type, def, desc, enums) &name##Spec,
      STROM_CONFIG_OPTIONS(STROM_X)
#undef STROM_X
  };
  return all;
}

}  // namespace strom::config
