from classifiers.native import attach

attach(__path__, __name__)  # the stages run compiled when built from their present sources
