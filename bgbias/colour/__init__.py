"""The colour experiment: backgrounds, coloured and paired datasets, paired training, evaluation, tables, figures."""
