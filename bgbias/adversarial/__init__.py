"""The adversarial experiment: grey MNIST, attacks (a registry), adversarial sets, the forgetting experiment."""
