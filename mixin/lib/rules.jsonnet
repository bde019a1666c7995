std.manifestYamlDoc((import '../mixin.libsonnet').prometheusRules, indent_array_in_object=false, quote_keys=false)
